"""``weerbaar playground``: start the demo deployment and its web page until Ctrl-C."""

import asyncio
import ipaddress
import logging
import signal
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def add_playground_options(parser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on (default 127.0.0.1; the page has no login)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port of the page (default 8080)")
    parser.add_argument("--database", default=None,
                        help="SQLite file to use (default: a throwaway one; refused if it holds real parks)")
    parser.add_argument("--language", choices=["nl", "en"], default="nl", help="language to start in")


def run_playground(args) -> int:
    from bot.playground.session import Playground, PlaygroundRefused

    if not _is_loopback(args.host):
        print(f"WARNING: the playground listens on {args.host}: it has no login, so anyone who can reach "
              "this address can use it. Use it only on a network you trust.", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="weerbaar-playground-") as scratch:
        database = Path(args.database) if args.database else Path(scratch) / "playground.db"
        playground = Playground(database, language=args.language)
        try:
            return asyncio.run(_serve(playground, args.host, args.port))
        except PlaygroundRefused as refusal:
            print(f"The playground will not start: {refusal}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"The playground could not listen on {args.host}:{args.port}: {error.strerror}; "
                  "choose another: .venv/bin/weerbaar playground --port 8081", file=sys.stderr)
            return 2


async def _serve(playground, host: str, port: int) -> int:
    from bot.playground.web import start_site
    from handlers.i18n import Translator

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await playground.start()
    try:
        runner = await start_site(playground, Translator.load(), host, port)
    except BaseException:
        await playground.stop()
        raise
    try:
        shown = f"[{host}]" if ":" in host else host
        print(f"\n  Weerbaar playground: http://{shown}:{port}\n"
              "  The real bot with a demo park, a throwaway database and a simulated Telegram;\n"
              "  nothing leaves this computer. Ctrl-C stops it.\n"
              "  To run the real bot instead: cp config.example.toml config.toml, set WEERBAAR_TELEGRAM_TOKEN\n"
              "  (or configure [matrix]) and run `make run` (or `weerbaar run`); see README.md.\n", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
        await playground.stop()
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
