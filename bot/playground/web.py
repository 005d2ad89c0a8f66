"""The playground's web server (aiohttp): the page, its live parts, server-sent events, actions."""

import asyncio
import logging
from importlib.resources import files
from pathlib import Path

from aiohttp import web

from bot.playground.demo import PERSONAS
from bot.playground.pages import SAMPLE_PHOTOS, live_parts, page
from bot.playground.session import Playground
from handlers.i18n import Translator

log = logging.getLogger(__name__)

PLAYGROUND_KEY = web.AppKey("playground", Playground)
TEXTS_KEY = web.AppKey("texts", Translator)
PERSONA_KEYS = tuple(p.key for p in PERSONAS)
KEEPALIVE_SECONDS = 15.0


def static_dir() -> Path:
    return Path(str(files("bot.playground") / "static"))


def make_app(playground: Playground, texts: Translator) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[PLAYGROUND_KEY] = playground
    app[TEXTS_KEY] = texts
    app.router.add_get("/", _page)
    app.router.add_get("/live", _live)
    app.router.add_get("/events", _events)
    app.router.add_post("/act", _act)
    app.router.add_get("/file/{file_id}", _file)
    app.router.add_static("/static", static_dir(), append_version=False)
    return app


async def start_site(playground: Playground, texts: Translator, host: str, port: int) -> web.AppRunner:
    """Serve the page; ``runner.addresses`` tells the port when ``port`` is 0."""
    runner = web.AppRunner(make_app(playground, texts), access_log=None, shutdown_timeout=1.0,
                           handler_cancellation=True)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def _persona(request: web.Request) -> str:
    who = request.query.get("as", PERSONA_KEYS[0])
    return who if who in PERSONA_KEYS else PERSONA_KEYS[0]


async def _page(request: web.Request) -> web.Response:
    playground = request.app[PLAYGROUND_KEY]
    html = page(playground, request.app[TEXTS_KEY], _persona(request))
    return web.Response(text=html, content_type="text/html", headers={
        "Cache-Control": "no-store", "X-Frame-Options": "DENY",
        # Only this server's script; nothing from anywhere else (the pins' positions are style attributes).
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                   "frame-ancestors 'none'"})


async def _live(request: web.Request) -> web.Response:
    parts = live_parts(request.app[PLAYGROUND_KEY], request.app[TEXTS_KEY], _persona(request))
    return web.json_response(parts, headers={"Cache-Control": "no-store"})


async def _events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: 'changed' whenever something in the world moved."""
    playground = request.app[PLAYGROUND_KEY]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await response.prepare(request)
    seen = None
    try:
        while True:
            current = (playground.version, len(playground.simulator.world.sent) if playground.simulator else 0)
            if current != seen:
                seen = current
                await response.write(f"event: changed\ndata: {current[0]}\n\n".encode())
            else:
                await response.write(b": keep-alive\n\n")
            await _next_change(playground)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


async def _next_change(playground: Playground) -> None:
    """Until the visitor acted, the bot sent something by itself (a retry), or the keep-alive is due."""
    signals = [playground.changed]
    if playground.simulator is not None:
        signals.append(playground.simulator.world.message_signal)
    waits = [asyncio.create_task(signal.wait(KEEPALIVE_SECONDS)) for signal in signals]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def _act(request: web.Request) -> web.Response:
    """One action of the visitor. JSON only: a page elsewhere cannot post here without a preflight."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="JSON only")
    try:
        action = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="not JSON") from None
    playground = request.app[PLAYGROUND_KEY]
    texts = request.app[TEXTS_KEY]
    kind = action.get("action")
    who = action.get("as")
    where = "group" if action.get("where") == "group" else "private"
    if kind not in ("advance", "reset") and who not in PERSONA_KEYS:
        raise web.HTTPBadRequest(text="unknown persona")
    toast = None
    try:
        if kind == "say":
            words = str(action.get("text", "")).strip()[:4096]
            if words:
                if where == "group" and not playground.in_group(who):
                    raise web.HTTPConflict(text=texts(playground.language, "playground.error.not_in_group"))
                await playground.say(who, where, words)
        elif kind == "press":
            toast = await playground.press(who, where, int(action["message_id"]), str(action["data"]))
        elif kind == "link":
            await playground.open_link(who, str(action["url"]))
        elif kind == "photo":
            name = action.get("name")
            if name not in SAMPLE_PHOTOS:
                raise web.HTTPBadRequest(text="unknown sample")
            await playground.send_photo(who, (static_dir() / "samples" / f"{name}.jpg").read_bytes())
        elif kind == "location":
            latitude, longitude = float(action["latitude"]), float(action["longitude"])
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise web.HTTPBadRequest(text="not a place on earth")
            await playground.send_location(who, latitude, longitude)
        elif kind == "advance":
            if action.get("step") not in ("hour", "workday", "monday"):
                raise web.HTTPBadRequest(text="unknown step")
            await playground.advance(action["step"])
        elif kind == "reset":
            language = action.get("language")
            await playground.reset(language if language in ("nl", "en") else None)
        else:
            raise web.HTTPBadRequest(text="unknown action")
    except (KeyError, ValueError, AssertionError) as error:
        # The simulator refuses what Telegram would not allow (e.g. a button on a deleted message).
        log.info("playground action refused: %s", type(error).__name__)
        raise web.HTTPBadRequest(text=texts(playground.language, "playground.error.not_possible")) from None
    except TimeoutError:
        raise web.HTTPServiceUnavailable(text=texts(playground.language, "playground.error.slow")) from None
    return web.json_response({"toast": toast})


async def _file(request: web.Request) -> web.Response:
    content = request.app[PLAYGROUND_KEY].file(request.match_info["file_id"])
    if content is None:
        raise web.HTTPNotFound()
    kind = "image/png" if content.startswith(b"\x89PNG") else "image/jpeg"
    return web.Response(body=content, content_type=kind, headers={"Cache-Control": "max-age=3600"})

