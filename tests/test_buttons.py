"""The button codec: every kind packs and reads back, fits Telegram's 64 bytes, and forged data reads as unknown."""

import pytest

from handlers.buttons import (
    KINDS, MAX_BYTES, AnswerQuestion, BackupChoice, CategoryAction, CategoryRole, DraftStep, InviteCancel,
    LanguageChoice, OpenPage, ParkChoice, ParkDraftStep, ReportAction, ReportPark, RequestTool, RoleAction,
    ScanChoice, ShowSignals, Unknown, UpdateReaction, unpack,
)

LARGEST = 2 ** 31 - 1  # the largest id a row can have
EXAMPLES = [
    DraftStep(LARGEST, "when_detail", "unknown"), ReportPark(LARGEST), ParkChoice(LARGEST, LARGEST),
    LanguageChoice("en"), ShowSignals(), ReportAction(LARGEST, "wdy"), AnswerQuestion(LARGEST),
    RoleAction(LARGEST, "revoke_yes"), BackupChoice(LARGEST, LARGEST), CategoryAction(LARGEST, "roles"),
    CategoryRole(LARGEST, "x" * 32), InviteCancel(LARGEST), OpenPage(LARGEST),
    ParkDraftStep(LARGEST, "audience", "members"), UpdateReaction(LARGEST, "off"), RequestTool("ct", LARGEST),
    ScanChoice(LARGEST, 99, "x" * 40),  # a park's category key as a scan answer: at most 40 characters
]


def test_every_kind_has_an_example():
    assert {type(example) for example in EXAMPLES} == set(KINDS)


@pytest.mark.parametrize("value", EXAMPLES, ids=lambda value: type(value).__name__)
def test_each_kind_reads_back_what_it_packed_within_64_bytes(value):
    data = value.pack()
    assert len(data.encode()) <= MAX_BYTES
    assert unpack(data) == value


def test_buttons_already_in_chats_keep_their_meaning():
    """The formats from before the codec: buttons sent last week still work after an upgrade."""
    assert unpack("r12:claim") == ReportAction(12, "claim")
    assert unpack("q7:ans") == AnswerQuestion(7)
    assert unpack("d3:when:now") == DraftStep(3, "when", "now")
    assert unpack("p4") == ReportPark(4)
    assert unpack("pc9:4") == ParkChoice(9, 4)
    assert unpack("lang:nl") == LanguageChoice("nl")
    assert unpack("signals") == ShowSignals()
    assert unpack("open:3") == OpenPage(3)
    # Issue 12's park-level buttons kept their own formats when they joined this codec.
    assert unpack("k:5:audience:next") == ParkDraftStep(5, "audience", "next")
    assert unpack("u:8:ok") == UpdateReaction(8, "ok")
    assert unpack("h:c1:3") == RequestTool("c1", 3)
    assert unpack("s:2:0:4") == ScanChoice(2, 0, "4")


@pytest.mark.parametrize("forged", [
    "", "r", "r12", "r12:", "r12:delete", "r-1:claim", "r1.5:claim", "r１２:claim",
    "q7:del", "p", "p1:2", "pc1", "lang:de", "signals:1", "o1:promote", "ob1:x", "cr1:", "cr1:a:b", "i1:use",
    "c1:explode", "open:", "open:x", "open:1:2", "x" * 65, "r12:claim\n", "d1:when:now:extra:", "zzz",
    "k:", "k:1:step", "u:1:delete", "u:x:ok", "h:z:1", "h:c:", "s:1:0", "s:1:0:a:b", "s:1:0:no spaces",
])
def test_forged_or_damaged_data_reads_as_unknown(forged):
    assert isinstance(unpack(forged), Unknown)


def test_a_number_no_row_can_have_reads_as_an_unknown_row():
    """Like an unknown number (issue 7, F): never an integer overflow in the database."""
    from handlers.numbers import NO_ROW

    assert unpack("r99999999999999999999999:claim") == ReportAction(NO_ROW, "claim")
    assert unpack("r2147483648:claim") == ReportAction(NO_ROW, "claim")
    assert unpack(f"pc{'9' * 30}:5") == ParkChoice(NO_ROW, 5)


def test_a_value_that_does_not_fit_is_refused_when_packing():
    with pytest.raises(ValueError):
        DraftStep(1, "step", "with:colon").pack()
    with pytest.raises(ValueError):
        CategoryRole(LARGEST, "x" * 60).pack()
