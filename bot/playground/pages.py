"""The playground page, rendered on the server; playground.js only swaps the live parts in."""

from html import escape

from babel.dates import format_datetime

from bot.botapi_simulator.limits import parse_bot_link
from bot.playground.demo import BOT_USERNAME, PERSONAS
from bot.playground.render import file_url, largest_photo, message_html, time_of
from bot.playground.session import Playground
from handlers.i18n import Translator

TOUR_STEPS = (  # (persona to show, key of the step's text)
    ("erik", "playground.tour.group"),
    ("erik", "playground.tour.report"),
    ("police", "playground.tour.delivered"),
    ("municipality", "playground.tour.claimed"),
    ("police", "playground.tour.feedback"),
    ("erik", "playground.tour.rating"),
    ("fleur", "playground.tour.second_report"),
    ("police", "playground.tour.reminders"),
    ("admin", "playground.tour.statistics"),
)
SAMPLE_PHOTOS = ("van", "drums", "windows")
MAP_BOUNDS = (52.3105, 4.8010, 52.3035, 4.8190)  # north, west, south, east of the demo park's map


def page(playground: Playground, texts: Translator, who: str) -> str:
    t = _texts(texts, playground.language)
    live = live_parts(playground, texts, who)
    other_language = "en" if playground.language == "nl" else "nl"
    return f"""<!doctype html>
<html lang="{playground.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t("playground.title")}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/playground.css">
<script src="/static/playground.js" defer></script>
</head>
<body data-persona="{escape(who)}" data-language="{playground.language}">
<header class="topbar">
  <div class="brand"><span class="logo">🛡️</span><div><h1>{t("playground.title")}</h1>
    <p>{t("playground.subtitle")}</p></div></div>
  <div class="clock"><span class="clock-label">{t("playground.clock")}</span>
    <strong id="clock">{live["clock"]}</strong>
    <button data-advance="hour">{t("playground.clock.hour")}</button>
    <button data-advance="workday">{t("playground.clock.workday")}</button>
    <button data-advance="monday">{t("playground.clock.monday")}</button></div>
  <div class="actions">
    <button data-language="{other_language}" class="quiet">{t("playground.other_language")}</button>
    <button data-reset class="quiet">{t("playground.reset")}</button></div>
</header>
<div class="layout">
  {tour(t)}
  <main>
    <nav class="personas" id="personas" role="tablist">{live["personas"]}</nav>
    <div class="panes">
      <section class="pane" data-where="group">
        <h2><span class="avatar group-avatar">👥</span><span id="group-title">{live["group_title"]}</span></h2>
        <div class="messages" id="group-messages">{live["group"]}</div>
        {composer(t, "group")}
      </section>
      <section class="pane" data-where="private">
        <h2><span class="avatar">🤖</span><span id="private-title">{live["private_title"]}</span></h2>
        <div class="messages" id="private-messages">{live["private"]}</div>
        {composer(t, "private")}
        {photo_picker(t)}
        {location_picker(t)}
      </section>
    </div>
  </main>
</div>
<div id="toast" role="status" hidden></div>
<footer>{t("playground.footer")}</footer>
</body>
</html>"""


def live_parts(playground: Playground, texts: Translator, who: str) -> dict:
    """The parts of the page that change; the page's script fetches them as JSON."""
    t = _texts(texts, playground.language)
    name = playground.people[who].first_name
    viewer = playground.people[who].id
    in_group = playground.in_group(who)
    return {
        "version": playground.version,
        "clock": escape(format_datetime(playground.local_now(), "EEE d MMM HH:mm", locale=playground.language)),
        "personas": personas(playground, t, who),
        "group_title": escape(playground.group.current().title or ""),
        "group": messages(playground, playground.chat_of(who, "group"), t, viewer),
        "private_title": t("playground.private_with", name=name),
        "private": messages(playground, playground.chat_of(who, "private"), t, viewer),
        "group_enabled": in_group,
        "group_note": "" if in_group else t("playground.not_in_group", name=name),
        "commands": {where: [{"command": c["command"], "description": c["description"]}
                             for c in playground.commands(who, where)] for where in ("group", "private")},
        "unread": {p.key: len(playground.history(playground.chat_of(p.key, "private")))
                   for p in PERSONAS},
    }


def personas(playground: Playground, t, who: str) -> str:
    tabs = []
    for persona in PERSONAS:
        selected = "true" if persona.key == who else "false"
        tabs.append(
            f'<button class="persona" role="tab" aria-selected="{selected}" data-switch="{persona.key}">'
            f'<span class="avatar">{persona.emoji}</span><span class="who"><strong>{escape(persona.first_name)}'
            f'</strong><small>{t(f"playground.role.{persona.key}")}</small></span>'
            f'<span class="badge" data-badge="{persona.key}" hidden></span></button>')
    return "".join(tabs)


def messages(playground: Playground, chat, t, viewer: int) -> str:
    """The chat as the viewer's app shows it: their own messages on the right."""
    history = playground.history(chat)
    if not history:
        return f'<p class="empty">{t("playground.empty")}</p>'
    parts, last_day = [], None
    for message in history:
        moment = time_of(message)
        day = moment.date()
        if day != last_day:
            label = format_datetime(moment, "EEEE d MMMM", locale=playground.language)
            parts.append(f'<div class="day">{escape(label)}</div>')
            last_day = day
        parts.append(bubble(message, moment.strftime("%H:%M"), t, viewer))
    return "".join(parts)


def bubble(message: dict, clock_time: str, t, viewer: int) -> str:
    sender = message.get("from") or {}
    from_bot = sender.get("is_bot", False)
    if any(key in message for key in ("new_chat_members", "left_chat_member", "migrate_to_chat_id",
                                      "migrate_from_chat_id", "group_chat_created")):
        return ""
    body = []
    photo = largest_photo(message)
    if photo:
        body.append(f'<img class="photo" src="{file_url(photo)}" alt="{t("playground.photo")}">')
    location = message.get("location")
    if location:
        body.append(location_html(location["latitude"], location["longitude"]))
    text = message.get("text") or message.get("caption")
    entities = message.get("entities") or message.get("caption_entities") or []
    if text:
        body.append(f'<div class="text">{message_html(text, entities)}</div>')
    mine = sender.get("id") == viewer
    author = "" if from_bot or mine else f'<div class="author">{escape(sender.get("first_name", ""))}</div>'
    css = "bubble mine" if mine else "bubble"
    return (f'<div class="{css}" data-message-id="{message["message_id"]}">{author}{"".join(body)}'
            f'<div class="meta">{clock_time}</div>{keyboard(message)}</div>')


def location_html(latitude: float, longitude: float) -> str:
    """A shared place: a pin on the demo park's map when it lies on it, and the coordinates."""
    north, west, south, east = MAP_BOUNDS
    x, y = (longitude - west) / (east - west), (latitude - north) / (south - north)
    pin = ""
    if 0 <= x <= 1 and 0 <= y <= 1:
        pin = (f'<div class="minimap"><img src="/static/park-map.svg" alt="">'
               f'<span class="pin" style="left:{x * 100:.1f}%;top:{y * 100:.1f}%">📍</span></div>')
    return f'<div class="location">{pin}📍 {latitude:.5f}, {longitude:.5f}</div>'


def keyboard(message: dict) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    if not rows:
        return ""
    html_rows = []
    for row in rows:
        buttons = []
        for button in row:
            label = escape(button["text"])
            if "callback_data" in button:
                buttons.append(f'<button class="key" data-press="{escape(button["callback_data"])}" '
                               f'data-message="{message["message_id"]}">{label}</button>')
            elif "url" in button:
                is_bot_link, _ = parse_bot_link(button["url"], BOT_USERNAME)
                if is_bot_link:
                    buttons.append(f'<button class="key link" data-link="{escape(button["url"])}">{label} ↗</button>')
                elif button["url"].startswith(("https://", "http://")):
                    buttons.append(f'<a class="key link" href="{escape(button["url"])}" target="_blank" '
                                   f'rel="noopener noreferrer">{label} ↗</a>')
        html_rows.append(f'<div class="keyrow">{"".join(buttons)}</div>')
    return f'<div class="keyboard">{"".join(html_rows)}</div>'


def composer(t, where: str) -> str:
    extras = ""
    if where == "private":
        extras = (f'<button type="button" class="tool" data-open="photos" title="{t("playground.photo")}">📷</button>'
                  f'<button type="button" class="tool" data-open="map" title="{t("playground.location")}">📍</button>')
    return f"""<form class="composer" data-where="{where}">
  <button type="button" class="tool" data-open="commands" title="{t("playground.commands")}">/</button>
  {extras}
  <input name="text" autocomplete="off" placeholder="{t("playground.placeholder")}" aria-label="{t("playground.placeholder")}">
  <button type="submit" class="send">{t("playground.send")}</button>
  <div class="note" hidden></div>
  <div class="popover commands-menu" hidden></div>
</form>"""


def photo_picker(t) -> str:
    samples = "".join(
        f'<button type="button" class="sample" data-photo="{name}"><img src="/static/samples/{name}.jpg" '
        f'alt="{t(f"playground.photo.{name}")}"><span>{t(f"playground.photo.{name}")}</span></button>'
        for name in SAMPLE_PHOTOS)
    return f'<div class="popover picker" data-picker="photos" hidden><p>{t("playground.photo.pick")}</p>' \
           f'<div class="samples">{samples}</div></div>'


def location_picker(t) -> str:
    north, west, south, east = MAP_BOUNDS
    return (f'<div class="popover picker" data-picker="map" hidden><p>{t("playground.location.pick")}</p>'
            f'<img class="map" src="/static/park-map.svg" alt="{t("playground.location")}" '
            f'data-north="{north}" data-west="{west}" data-south="{south}" data-east="{east}"></div>')


def tour(t) -> str:
    """All steps as a list; the current one is open (playground.js moves it)."""
    steps = []
    for number, (persona, key) in enumerate(TOUR_STEPS, start=1):
        current = " current" if number == 1 else ""
        steps.append(
            f'<li class="step{current}" data-step="{number}" data-persona="{persona}">'
            f'<button class="step-title" data-goto="{number}"><span class="number">{number}</span>'
            f'<span>{t(key + ".title")}</span></button>'
            f'<div class="step-body"><div class="step-text">{t(key + ".text")}</div>'
            f'<button class="show-persona" data-switch="{persona}">{t("playground.tour.show", name=_name(persona))}'
            f'</button></div></li>')
    return f"""<aside class="tour" aria-label="{t("playground.tour")}">
  <h2>{t("playground.tour")}</h2>
  <ol class="steps">{"".join(steps)}</ol>
  <div class="tour-nav"><button data-tour="back" class="quiet">{t("playground.tour.back")}</button>
  <button data-tour="next">{t("playground.tour.next")}</button></div>
</aside>"""


def _name(persona_key: str) -> str:
    return next(p.first_name for p in PERSONAS if p.key == persona_key)


def _texts(texts: Translator, language: str):
    return lambda key, **values: texts(language, key, **values)
