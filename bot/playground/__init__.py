"""The playground: the real bot, a demo park and its people in the browser, without any account."""
