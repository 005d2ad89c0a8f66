"""Weerbaar's behaviour, platform-neutral: never imports ``telegram`` or ``nio``."""
