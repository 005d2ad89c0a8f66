"""Splitting texts that are too long for one message: between lines, tags balanced, nothing lost."""

from handlers.splitting import measure, split_text
from tests.fake_telegram.entities import parse_html


def test_a_short_text_is_one_message():
    assert split_text("kort\nbericht", 4096) == ["kort\nbericht"]


def test_lines_are_kept_whole_and_in_order():
    lines = [f"<b>#{index}</b> regel met &amp; en een naam" for index in range(400)]
    parts = split_text("\n".join(lines), 4096)
    assert len(parts) > 1 and all(measure(part) <= 4096 for part in parts)
    assert "\n".join(parts).split("\n") == lines
    for part in parts:
        parse_html(part)


def test_an_overlong_line_is_cut_at_a_space_outside_tags_and_references():
    line = "<i>" + "woord &amp; " * 1500 + "</i>"
    parts = split_text(line, 4096)
    assert len(parts) >= 4 and all(measure(part) <= 4096 for part in parts)
    plain = "".join(parse_html(part)[0] + " " for part in parts)
    assert plain.split() == parse_html(line)[0].split()


def test_emoji_count_double_as_telegram_counts_them():
    parts = split_text("\n".join(["⚠️🚚" * 100] * 40), 4096)
    assert all(measure(part) <= 4096 for part in parts) and len(parts) >= 2
