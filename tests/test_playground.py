"""The playground (`weerbaar playground`) in a real browser: Debian's Chromium driven by Playwright.

The browser is never downloaded: `make test` installs Debian's chromium when it is missing.
Without it the browser test skips, except in CI (CI=true), where it fails.
"""

import os
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from bot.config import parse_config
from bot.park_setup import apply_parks
from bot.playground.runner import add_playground_options
from bot.playground.session import Playground, PlaygroundRefused
from bot.playground.web import start_site
from handlers.i18n import Translator
from storage.db import Database, make_engine, upgrade
from tests.harness import park_table

CHROMIUM = Path(os.environ.get("WEERBAAR_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = Path(__file__).parent.parent / "test-output"
MONDAY_MORNING = datetime(2026, 11, 30, 8, 0)  # Monday 30 November 2026, 09:00 in Amsterdam


@pytest.fixture
async def playground(tmp_path):
    playground = Playground(tmp_path / "playground.db", language="nl", start=MONDAY_MORNING)
    await playground.start()
    yield playground
    await playground.stop()


@pytest.fixture
async def page_url(playground):
    runner = await start_site(playground, Translator.load(), "127.0.0.1", 0)
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def browser_page():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing; `make test` installs Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL")
        page = await context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        await browser.close()
        assert errors == []


@pytest.fixture(autouse=True)
def patient_expectations():
    """Expectations wait for the page (never sleep); a busy CI machine may need longer than 5 s."""
    from playwright.async_api import expect

    expect.set_options(timeout=20_000)


class Visitor:
    """Clicks and types on the page as a person would, and reads what the panes show."""

    def __init__(self, page, texts: Translator):
        self.page = page
        self.texts = texts

    def label(self, key: str, **values) -> str:
        return str(self.texts("nl", key, **values))

    async def next_step(self, title_key: str) -> None:
        await self.page.get_by_role("button", name=self.label("playground.tour.next")).click()
        await self.expect(self.page.locator(".step.current .step-title")).to_contain_text(self.label(title_key))

    async def act_as(self, name: str) -> None:
        await self.page.locator(f'.persona:has-text("{name}")').click()
        await self.expect(self.page.locator("#private-title")).to_contain_text(name)

    async def press(self, pane: str, label: str) -> None:
        """The button with this label on the newest message that has one."""
        await self.page.locator(f"#{pane}-messages .key", has_text=label).last.click()

    async def type(self, pane: str, text: str) -> None:
        composer = self.page.locator(f'.composer[data-where="{pane}"]')
        await composer.locator("input").fill(text)
        await composer.locator("input").press("Enter")

    async def sees(self, pane: str, text: str) -> None:
        await self.expect(self.page.locator(f"#{pane}-messages")).to_contain_text(text)

    @property
    def expect(self):
        from playwright.async_api import expect

        return expect


async def test_the_guided_tour_walks_the_whole_loop(playground, page_url, browser_page):
    page = browser_page
    visitor = Visitor(page, Translator.load())
    label = visitor.label
    await page.goto(page_url)
    await visitor.expect(page.locator(".step.current .step-title")).to_contain_text(label("playground.tour.group.title"))

    # 1. Erik, in the group, asks to report; the group sees nothing of the report.
    await visitor.sees("group", "Bedrijvenpark De Zuidpolder")
    await visitor.press("group", label("group.report_button"))
    await visitor.sees("private", "112")

    # 2. The guided report, with a place on the map and a sample photo.
    await visitor.next_step("playground.tour.report.title")
    await visitor.press("private", "Drugs")
    await page.locator('.pane[data-where="private"] [data-open="map"]').click()
    await page.locator("img.map").click(position={"x": 60, "y": 150})
    await visitor.sees("private", "📍")
    await visitor.press("private", label("when.now"))
    await visitor.type("private", "Elke nacht rond 2 uur een wit busje bij loods 7; ze laden zware dozen uit.")
    await visitor.sees("private", "Elke nacht rond 2 uur")
    await page.locator('.pane[data-where="private"] [data-open="photos"]').click()
    await page.locator('[data-photo="van"]').click()
    await visitor.expect(page.locator("#private-messages img.photo")).to_have_count(1)
    await visitor.press("private", label("report.photos_done"))
    await visitor.press("private", label("contact.anonymous_button"))
    await visitor.press("private", label("urgent.no"))
    await visitor.press("private", label("report.send"))
    await visitor.sees("private", "ZP-0001")
    group_text = await page.locator("#group-messages").inner_text()
    assert "busje" not in group_text and "loods 7;" not in group_text

    # 3. The police officer receives it privately, with the photo and without Erik's name.
    await visitor.next_step("playground.tour.delivered.title")
    await visitor.expect(page.locator("#private-title")).to_contain_text("Piet")
    await visitor.sees("private", "ZP-0001")
    await visitor.sees("private", "Elke nacht rond 2 uur")
    assert "Erik" not in await page.locator("#private-messages").inner_text()
    await visitor.expect(page.locator("#private-messages img.photo")).to_have_count(1)
    OUTPUT.mkdir(exist_ok=True)
    await page.screenshot(path=OUTPUT / "playground-delivered.png")
    await visitor.press("private", label("action.claim"))

    # 4. The municipality sees that the police took it.
    await visitor.next_step("playground.tour.claimed.title")
    await visitor.expect(page.locator("#private-title")).to_contain_text("Gwen")
    await visitor.sees("private", "ZP-0001 is opgepakt door Piet")

    # 5. Feedback with a ready-made answer.
    await visitor.next_step("playground.tour.feedback.title")
    await page.get_by_role("button", name=label("playground.clock.hour")).click()
    await visitor.expect(page.locator("#clock")).to_contain_text("10:00")
    await visitor.press("private", label("action.feedback"))
    ready_answer = label("feedback.ready.1")
    await visitor.press("private", ready_answer[:30])

    # 6. Erik hears back under his number, from the police's role, and rates it.
    await visitor.next_step("playground.tour.rating.title")
    await visitor.expect(page.locator("#private-title")).to_contain_text("Erik")
    await visitor.sees("private", ready_answer)
    await visitor.press("private", label("rating.ok"))
    await visitor.sees("private", label("rating.thanks_ok", number="ZP-0001"))

    # 7. Fleur reports something nobody answers.
    await visitor.next_step("playground.tour.second_report.title")
    await visitor.type("private", "/melden")
    await visitor.press("private", "Drugs")
    await visitor.type("private", "Achter het leegstaande pand aan de Zuidpolderweg")
    await visitor.press("private", label("when.now"))
    await visitor.type("private", "Blauwe vaten en jerrycans achter het pand, het stinkt naar anijs.")
    await visitor.press("private", label("report.photos_done"))
    await visitor.press("private", label("contact.anonymous_button"))
    await visitor.press("private", label("urgent.no"))
    await visitor.press("private", label("report.send"))
    await visitor.sees("private", "ZP-0002")

    # 8. A working day passes: reminders for the officials, then the park's admin is told.
    await visitor.next_step("playground.tour.reminders.title")
    await page.get_by_role("button", name=label("playground.clock.workday")).click()
    await visitor.expect(page.locator("#clock")).to_contain_text("di 1 dec")
    await visitor.sees("private", "herinnering 2")  # the officials' reminder digest
    await visitor.sees("private", "ZP-0002")
    await visitor.act_as("Anna")
    await visitor.sees("private", "Escalatie")  # the admin's escalation digest
    await visitor.sees("private", "na 2 herinneringen")

    # 9. The admin's statistics count both reports.
    await visitor.next_step("playground.tour.statistics.title")
    await visitor.type("private", "/statistiek")
    await visitor.sees("private", "Meldingen: 2")
    await visitor.sees("private", "mediaan 1 uur")

    await page.screenshot(path=OUTPUT / "playground-tour.png")


async def test_english_and_live_updates_in_a_second_tab(playground, page_url, browser_page):
    """The language button starts over in English; another tab follows the clock by server-sent events."""
    page = browser_page
    await page.goto(page_url)
    await page.get_by_role("button", name="English").click()
    await page.wait_for_load_state()
    from playwright.async_api import expect

    await expect(page.locator("h1")).to_have_text("Weerbaar playground")
    await expect(page.locator("#group-messages")).to_contain_text("Report safely (private)")
    await expect(page.locator(".step.current .step-title")).to_contain_text("Report a suspicious van")
    other = await page.context.new_page()
    await other.goto(page_url + "/?as=police")
    await expect(other.locator("#private-title")).to_contain_text("Piet")
    await page.get_by_role("button", name="+1 hour").click()
    await expect(other.locator("#clock")).to_contain_text("10:00")


async def test_actions_are_json_only_so_other_sites_cannot_post(playground, page_url):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{page_url}/act", data="action=advance&step=monday",
                                headers={"Content-Type": "application/x-www-form-urlencoded"}) as response:
            assert response.status == 415
        async with session.post(f"{page_url}/act", json={"action": "say", "as": "nobody", "text": "hoi"}) as response:
            assert response.status == 400
        async with session.post(f"{page_url}/act", json={"action": "say", "as": "police", "where": "group",
                                                          "text": "hoi"}) as response:
            assert response.status == 409
            assert await response.text() == "Alleen leden van de groep kunnen daar iets zeggen."
        async with session.post(f"{page_url}/act", json={"action": "press", "as": "police", "where": "group",
                                                          "message_id": 2, "data": "x"}) as response:
            assert response.status == 400
            assert "Dat kan hier niet" in await response.text()
    assert playground.clock.now() == MONDAY_MORNING


async def test_the_clock_runs_the_sweeps_and_reset_starts_over(playground):
    await playground.say("erik", "private", "/melden")
    await playground.advance("hour")
    assert playground.clock.now() == datetime(2026, 11, 30, 9, 0)
    await playground.advance("hour")
    expired = str(Translator.load()("nl", "report.expired"))
    assert playground.history(playground.chat_of("erik", "private"))[-1]["text"] in expired
    await playground.advance("monday")
    assert playground.clock.now() == datetime(2026, 12, 7, 8, 0)
    await playground.advance("workday")
    assert playground.clock.now() == datetime(2026, 12, 8, 8, 0)
    await playground.reset(language="en")
    assert playground.clock.now() == MONDAY_MORNING
    welcome = playground.history(playground.group)[-1]
    assert "Report safely" in str(welcome["reply_markup"])


async def test_it_talks_only_to_the_simulator_on_loopback(playground):
    app = playground.app
    assert app.matrix is None
    assert app.telegram.application.bot.base_url.startswith(f"http://127.0.0.1:{playground.simulator.port}/bot")
    assert playground.simulator.token not in os.environ.get("WEERBAAR_TELEGRAM_TOKEN", "")


async def test_it_refuses_a_file_that_is_not_its_own(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("important")
    with pytest.raises(PlaygroundRefused, match="not an SQLite database"):
        await Playground(notes).start()
    assert notes.read_text() == "important"


async def test_it_refuses_a_database_with_real_parks(tmp_path):
    path = tmp_path / "real.db"
    db = Database(make_engine(f"sqlite:///{path}"))
    upgrade(db.engine)
    with db.transaction() as session:
        apply_parks(session, parse_config({"parks": [park_table("spaanse-polder", "De Spaanse Polder", "SP")]},
                                          environ={}))
    db.engine.dispose()
    with pytest.raises(PlaygroundRefused, match="spaanse-polder"):
        await Playground(path).start()
    result = subprocess.run([sys.executable, "-m", "bot", "playground", "--database", str(path), "--port",
                             str(_free_port())], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "real parks (spaanse-polder)" in result.stderr


def test_run_without_a_platform_points_to_the_playground(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[parks]]\nslug = "p"\nname = "P"\nprefix = "P"\ntimezone = "Europe/Amsterdam"\n'
                      '[[parks.categories]]\nkey = "drugs"\nname_nl = "Drugs"\nname_en = "Drugs"\nroles = ["police"]\n')
    result = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "weerbaar playground" in result.stderr


def test_make_run_starts_the_playground_only_without_a_platform(tmp_path, capsys):
    import argparse

    from bot.cli import _playground_instead

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    add_playground_options(commands.add_parser("playground"))
    config = tmp_path / "config.toml"

    def run_with(text: str | None):
        if text is not None:
            config.write_text(text)
        return _playground_instead(argparse.Namespace(command="run", config=str(config)), parser)

    missing = run_with(None)
    assert (missing.command, missing.host, missing.port) == ("playground", "127.0.0.1", 8080)
    assert "not found, so starting the playground" in capsys.readouterr().out
    assert run_with('[[parks]]\nslug = "p"\n').command == "playground"
    assert run_with('[telegram]\ntoken_env = "T"\n') is None
    assert run_with('[matrix]\nhomeserver = "https://m.example"\n') is None


def test_only_loopback_is_quiet():
    from bot.playground.runner import _is_loopback

    assert [_is_loopback(host) for host in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "192.0.2.1")] == [
        True, True, True, False, False]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_messages_render_entities_by_utf16_offsets_and_escape_the_rest():
    from bot.playground.render import message_html

    text = "🛡 Melding <script>x</script> ZP-0001"
    entities = [{"type": "bold", "offset": 3, "length": 7},
                {"type": "text_link", "offset": 30, "length": 7, "url": "javascript:alert(1)"},
                {"type": "italic", "offset": 30, "length": 7}]
    assert message_html(text, entities) == "🛡 <b>Melding</b> &lt;script&gt;x&lt;/script&gt; <i>ZP-0001</i>"
