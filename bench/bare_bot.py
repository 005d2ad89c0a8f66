"""The reference: a bare python-telegram-bot bot that answers the same steps with the same messages.

It stores nothing and sends its replies inline from the update handler, with PTB's
``concurrent_updates`` on: the fastest a PTB bot can answer on the same fake Bot API.
``bench/pipeline.py`` runs it in a process of its own, as Weerbaar runs in its own:
``python -m bench.bare_bot --base-url URL --officials ID,ID [--connections N]`` (token in
``BARE_BOT_TOKEN``), polling until SIGTERM.
"""

import argparse
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

#: What the bot answers at each step of a guided report: (text, button labels) per message.
REPORT_REPLIES = [
    [("Melding voor De Spaanse Polder", []), ("Waar gaat het over? Kies een soort.", ["Drugs", "Vastgoed"])],
    [("Waar was het?", [])],
    [("Wanneer was het?", ["Nu", "Eerder vandaag"])],
    [("Wat heb je gezien?", [])],
    [("Heb je foto's?", ["Klaar"])],
    [("Mogen instanties zien wie je bent?", ["Anoniem", "Met naam"])],
    [("Is het dringend?", ["Ja, spoed", "Nee"])],
    [("Controleer je melding", ["Versturen", "Wijzigen", "Annuleren"])],
    [("Je melding is verstuurd.", [])],
]


def bare_bot(token: str, base_url: str, officials: list[int], connections: int | None = None) -> Application:
    """``connections``: the Bot API connection pool's size (default: python-telegram-bot's own)."""
    builder = ApplicationBuilder().token(token).base_url(base_url).concurrent_updates(True)
    if connections is not None:
        builder = builder.connection_pool_size(connections)
    application = builder.build()
    steps: dict[int, int] = {}

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        bot = context.bot
        if update.callback_query is not None:
            await update.callback_query.answer()
        chat_id = update.effective_chat.id
        text = update.message.text if update.message else ""
        if text == "/mijnmeldingen":
            await bot.send_message(chat_id, "Je hebt nog geen meldingen. Met /melden maak je er een.")
            return
        step = 0 if text.startswith(("/melden", "/start")) else steps.get(chat_id, 0)
        steps[chat_id] = step + 1
        for reply, labels in REPORT_REPLIES[min(step, len(REPORT_REPLIES) - 1)]:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"{step}:{n}")
                                            for n, label in enumerate(labels)]]) if labels else None
            await bot.send_message(chat_id, reply, reply_markup=markup)
        if step == len(REPORT_REPLIES) - 1:
            for official in officials:
                await bot.send_message(official, "Nieuwe melding")

    application.add_handler(TypeHandler(Update, on_update))
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the Bot API's address, as PTB's base_url")
    parser.add_argument("--officials", default="", help="comma-separated chat ids told of each report")
    parser.add_argument("--connections", type=int, default=None,
                        help="Bot API connections (default: python-telegram-bot's own)")
    args = parser.parse_args()
    officials = [int(official) for official in args.officials.split(",") if official]
    application = bare_bot(os.environ["BARE_BOT_TOKEN"], args.base_url, officials, args.connections)
    application.run_polling(poll_interval=0.0, timeout=10)


if __name__ == "__main__":
    main()
