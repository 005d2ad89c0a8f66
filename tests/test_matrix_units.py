"""Matrix rendering, answer matching and the [matrix] config section, without a homeserver."""

import pytest

from bot.config import ConfigError, parse_config
from bot.matrix_adapter import _command
from bot.matrix_render import match_choice, message_content, parse_geo_uri, render_html
from tests.harness import park_table

CHOICES = [[{"label": "✅ Versturen", "data": "send", "url": None}],
           [{"label": "Wijzigen", "data": "change", "url": None}, {"label": "Annuleren", "data": "cancel", "url": None}],
           [{"label": "Anoniem via de bot", "data": "anon", "url": None}],
           [{"label": "Open de app", "data": None, "url": "https://example.org"}]]


def test_choices_answered_by_number_or_word_case_and_accent_insensitive():
    assert match_choice("1", CHOICES) == "send"
    assert match_choice(" 3. ", CHOICES) == "cancel"
    assert match_choice("5", CHOICES) is None                 # URL buttons are not numbered
    assert match_choice("VERSTÜREN", CHOICES) == "send"
    assert match_choice("annuleren!", CHOICES) == "cancel"
    assert match_choice("anoniem", CHOICES) == "anon"
    assert match_choice("gisteravond bij loods 7", CHOICES) is None
    assert match_choice("1", []) is None


def test_notice_has_plain_body_and_sanitised_html():
    content = message_content('<b>Let op</b> &lt;script&gt; <script>x</script><a href="javascript:x">y</a>\nregel 2',
                              CHOICES, hint="Antwoord met het nummer of het woord.")
    assert content["msgtype"] == "m.notice" and content["format"] == "org.matrix.custom.html"
    assert "<script>" not in content["formatted_body"] and "javascript" not in content["formatted_body"]
    assert "<b>Let op</b> &lt;script&gt;" in content["formatted_body"] and "<br>regel 2" in content["formatted_body"]
    assert content["body"].startswith("Let op <script>")
    assert "1. ✅ Versturen\n2. Wijzigen\n3. Annuleren\n4. Anoniem via de bot" in content["body"]
    assert content["m.mentions"] == {}


def test_pills_become_mentions_and_links_keep_their_target():
    plain, html, mentions = render_html('<a href="https://matrix.to/#/@erik:example.org">Erik</a>, zie '
                                        '<a href="https://example.org/x">dit</a>')
    assert mentions == ["@erik:example.org"]
    assert plain == "Erik, zie dit (https://example.org/x)"
    assert html.startswith('<a href="https://matrix.to/#/@erik:example.org">Erik</a>')


def test_commands_with_bang_or_slash():
    assert _command("!koppel spaanse-polder") == ("koppel", "spaanse-polder")
    assert _command("/MELDEN") == ("melden", "")
    assert _command("!!") == (None, "")
    assert _command("hallo") == (None, "")
    assert parse_geo_uri("geo:51.9,4.41;u=10") == (51.9, 4.41)
    assert parse_geo_uri("geo:200,4") is None


def _raw(matrix: dict) -> dict:
    return {"parks": [park_table("sp", "De Spaanse Polder", "SP")], "matrix": matrix}


def test_matrix_config_reads_secrets_from_the_environment(tmp_path):
    config = parse_config(_raw({"homeserver": "https://matrix.example.org/", "user_id": "@weerbaar:example.org",
                                "state_dir": "matrix-state"}),
                          {"WEERBAAR_MATRIX_PASSWORD": "s3cret-pass", "WEERBAAR_MATRIX_PICKLE_KEY": "k" * 32},
                          base_dir=tmp_path)
    matrix = config.matrix
    assert matrix.homeserver == "https://matrix.example.org" and matrix.state_dir == tmp_path / "matrix-state"
    assert matrix.password == "s3cret-pass" and "s3cret" not in repr(matrix)


@pytest.mark.parametrize("matrix, environ, key", [
    ({"homeserver": "matrix.example.org", "user_id": "@w:example.org", "state_dir": "s"}, {"WEERBAAR_MATRIX_PASSWORD": "pw"},
     "matrix.homeserver"),
    ({"homeserver": "https://m.example.org", "user_id": "weerbaar", "state_dir": "s"}, {"WEERBAAR_MATRIX_PASSWORD": "pw"},
     "matrix.user_id"),
    ({"homeserver": "https://m.example.org", "user_id": "@w:example.org", "state_dir": "s", "password": "x"}, {},
     "matrix.password"),
    ({"homeserver": "https://m.example.org", "user_id": "@w:example.org", "state_dir": "s"}, {},
     "matrix.password_env (WEERBAAR_MATRIX_PASSWORD)"),
    ({"homeserver": "https://m.example.org", "user_id": "@w:example.org", "state_dir": "s",
      "access_token_env": "TOKEN"}, {"TOKEN": "change-me"}, "matrix.access_token_env (TOKEN)"),
    ({"homeserver": "https://m.example.org", "user_id": "@w:example.org"}, {"WEERBAAR_MATRIX_PASSWORD": "pw"},
     "matrix.state_dir"),
])
def test_matrix_config_errors_name_the_dotted_key(tmp_path, matrix, environ, key):
    with pytest.raises(ConfigError) as error:
        parse_config(_raw(matrix), environ, base_dir=tmp_path)
    assert error.value.key == key
