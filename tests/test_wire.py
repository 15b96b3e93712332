"""Tests for pipelines.wire: wire-service attribution of reposted articles."""

from __future__ import annotations

import time

import pytest

from pipelines.wire import DEFAULT_AGENCIES, WireAttributor
from tests.support.site import SEED_POST

SEED_TITLE = "Moscow Won't Stoop To Discussing NATO Demands On 'Deescalation Measures'"

BODY = (
    "Officials from both sides met on Monday to discuss the proposals at length, and "
    "said the talks would continue later in the week.",
    "The ministry said in a statement that it expected a written answer before the end "
    "of the month, without giving further details.",
    "Analysts said the positions of the two sides remained far apart on most of the "
    "issues under discussion.",
    "A spokesperson declined to comment on the timing of the next round of talks.",
    "The meeting is the first of its kind since the summer.",
)

WIRE = WireAttributor()


def post(
    *,
    top: tuple[str, ...] = (),
    dateline: str = "",
    bottom: tuple[str, ...] = (),
    body: tuple[str, ...] = BODY,
) -> str:
    """A blog repost: blog header, optional credit lines, body, optional footers, blog footer."""
    paragraphs = [dateline + body[0], *body[1:]]
    lines = ["Monday, January 10, 2022", "", "Talks To Continue", "", *top, ""]
    lines += [line for paragraph in paragraphs for line in (paragraph, "")]
    return "\n".join([*lines, *bottom, "", "Posted by Jane at 10:15 AM", "No comments:"])


# --- the seed post -------------------------------------------------------------------------------


def test_seed_post_is_sputnik() -> None:
    assert WIRE.detect(SEED_POST) == "Sputnik"
    assert WIRE.detect(SEED_POST, SEED_TITLE) == "Sputnik"


def test_seed_post_as_extracted_text_is_sputnik() -> None:
    extracted = "\n".join(line.strip() for line in SEED_POST.splitlines() if line.strip())
    assert WIRE.detect(extracted, SEED_TITLE) == "Sputnik"


def test_seed_post_without_its_credit_line_is_unattributed() -> None:
    uncredited = SEED_POST.replace("\nSputnik\n", "\n")
    assert uncredited != SEED_POST
    assert WIRE.detect(uncredited) is None
    assert WIRE.detect(uncredited, SEED_TITLE) is None


def test_seed_post_with_crlf_line_endings() -> None:
    assert WIRE.detect(SEED_POST.replace("\n", "\r\n"), SEED_TITLE) == "Sputnik"


# --- datelines -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dateline", "expected"),
    [
        ("MOSCOW (Reuters) - ", "Reuters"),
        ("WASHINGTON, Jan 9 (Reuters) - ", "Reuters"),
        ("(AP) -- ", "Associated Press"),
        ("WASHINGTON (AP) \u2014 ", "Associated Press"),
        ("KYIV, Ukraine (AP) \u2014 ", "Associated Press"),
        ("LONDON (AFP) - ", "AFP"),
        ("BEIJING, Jan. 9 (Xinhua) -- ", "Xinhua"),
        ("NEW YORK (Bloomberg) -- ", "Bloomberg"),
        ("MOSCOW, January 9 (Sputnik) - ", "Sputnik"),
        ("MOSCOW, January 9. /TASS/. ", "TASS"),
        ("Rio de Janeiro (EFE) - ", "EFE"),
        ("NEW DELHI, Jan 9 (PTI) - ", "PTI"),
        ("BERLIN (dpa) - ", "dpa"),
        ("SEOUL, Jan. 9 (Yonhap) -- ", "Yonhap"),
    ],
)
def test_dateline(dateline: str, expected: str) -> None:
    assert WIRE.detect(post(dateline=dateline)) == expected


def test_dateline_in_a_later_paragraph_of_the_opening() -> None:
    text = post(body=(BODY[0], "LONDON (AFP) - " + BODY[1], *BODY[2:]))
    assert WIRE.detect(text) == "AFP"


@pytest.mark.parametrize(
    "dateline",
    ["(ap) - ", "(Ap) - ", "(RT) - ", "MOSCOW (Reutersville) - ", "LONDON (APT) - ", "(AFP) "],
)
def test_not_a_dateline(dateline: str) -> None:
    assert WIRE.detect(post(dateline=dateline)) is None


# --- credit lines and footers --------------------------------------------------------------------

CREDIT_LINES = [
    ("Sputnik", "Sputnik"),
    ("SPUTNIK", "Sputnik"),
    ("Sputnik International", "Sputnik"),
    ("By Reuters", "Reuters"),
    ("By REUTERS", "Reuters"),
    ("Reuters staff", "Reuters"),
    ("By Reuters Staff", "Reuters"),
    ("\u2014 Reuters", "Reuters"),
    ("- Reuters", "Reuters"),
    ("Thomson Reuters", "Reuters"),
    ("By Jane Doe, Reuters", "Reuters"),
    ("AP", "Associated Press"),
    ("Associated Press", "Associated Press"),
    ("By The Associated Press", "Associated Press"),
    ("AFP", "AFP"),
    ("By Agence France-Presse", "AFP"),
    ("Source: AFP", "AFP"),
    ("Source: Sputnik", "Sputnik"),
    ("Via TASS", "TASS"),
    ("Xinhua", "Xinhua"),
    ("RT", "RT"),
    ("Source: RT", "RT"),
    ("Sources: Al Jazeera and news agencies", "Al Jazeera"),
    ("**Source:** Anadolu Agency", "Anadolu Agency"),
]


@pytest.mark.parametrize(("line", "expected"), CREDIT_LINES)
def test_credit_line_at_the_top(line: str, expected: str) -> None:
    assert WIRE.detect(post(top=(line,))) == expected


@pytest.mark.parametrize(("line", "expected"), CREDIT_LINES)
def test_credit_line_at_the_bottom(line: str, expected: str) -> None:
    assert WIRE.detect(post(bottom=(line,))) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Copyright 2022 The Associated Press. All rights reserved.", "Associated Press"),
        ("\u00a9 Agence France-Presse", "AFP"),
        ("\u00a9 2022 Thomson Reuters", "Reuters"),
        ("Copyright \u00a9 2022 Bloomberg L.P.", "Bloomberg"),
        ("(Reporting by Dmitry Antonov; Editing by Alison Williams)", "Reuters"),
        (
            "(Reporting by Mark Trevelyan in London; Additional reporting by Olzhas Auyezov "
            "in Almaty; Writing by Tom Balmforth; Editing by Nick Macfie)",
            "Reuters",
        ),
        ("This article originally appeared on Sputnik", "Sputnik"),
        ("This article originally appeared at Sputnik News.", "Sputnik"),
        ("This story was first published by Kyodo News on Monday.", "Kyodo"),
        (
            "Associated Press writer Jim Heintz in Moscow contributed to this report.",
            "Associated Press",
        ),
    ],
)
def test_footer(line: str, expected: str) -> None:
    assert WIRE.detect(post(bottom=(line,))) == expected


# --- mentions and look-alikes are not attributions -----------------------------------------------

MENTIONS = [
    "Reuters reported that the talks had stalled.",
    "The talks had stalled, according to the AP.",
    "The minister told Sputnik in an interview that no deal was near.",
    "The APT group behind the attack is believed to be state-sponsored.",
    "Reutersville is a small town.",
    "AFP and Reuters both carried the statement.",
    "APT",
    "Reutersville",
    "tape",
    "ap",
    "Sputnik V",
    "By Michael Bloomberg",
    "Source: AP-NORC poll",
    "\u00a9 AP Photo / Evan Vucci",
    "\u00a9 Sputnik / Alexei Nikolsky",
    "Labels: Sputnik, Russia, NATO",
]


@pytest.mark.parametrize("line", MENTIONS)
def test_mention_at_the_top_is_not_attribution(line: str) -> None:
    assert WIRE.detect(post(top=(line,))) is None


@pytest.mark.parametrize("line", MENTIONS)
def test_mention_at_the_bottom_is_not_attribution(line: str) -> None:
    assert WIRE.detect(post(bottom=(line,))) is None


@pytest.mark.parametrize("line", MENTIONS[:6])
def test_mention_opening_the_body_is_not_attribution(line: str) -> None:
    assert WIRE.detect(post(dateline=line + " ")) is None


def test_credit_forms_in_the_middle_of_a_long_text_are_ignored() -> None:
    middle = ("Reuters", "Source: AFP", "LONDON (AFP) - The talks went on.")
    body = (*BODY, *BODY, *middle, *BODY, *BODY)
    assert WIRE.detect(post(body=body)) is None
    assert WIRE.detect(post(body=body, bottom=("Source: TASS",))) == "TASS"


# --- precedence ----------------------------------------------------------------------------------


def test_dateline_beats_credit_lines_and_footers() -> None:
    text = post(top=("Sputnik",), dateline="MOSCOW (Reuters) - ", bottom=("Source: AFP",))
    assert WIRE.detect(text) == "Reuters"


def test_top_credit_beats_footer() -> None:
    assert WIRE.detect(post(top=("By Sputnik",), bottom=("Source: AFP",))) == "Sputnik"


def test_footer_alone() -> None:
    assert WIRE.detect(post(bottom=("Source: AFP",))) == "AFP"


# --- title ---------------------------------------------------------------------------------------


def test_title_line_is_not_a_credit() -> None:
    text = "Sputnik\n\n" + "\n\n".join(BODY)
    assert WIRE.detect(text) == "Sputnik"
    assert WIRE.detect(text, title="Sputnik") is None


def test_credit_right_after_a_title_below_the_top_lines() -> None:
    header = ["Home", "About", "Archive", "Contact", "Search", "Monday, January 10, 2022"]
    text = "\n".join([*header, "Talks To Continue", "AFP", *BODY, *BODY])
    assert WIRE.detect(text) is None
    assert WIRE.detect(text, title="Talks To Continue") == "AFP"


# --- configured agencies -------------------------------------------------------------------------

CUSTOM = {"Example Wire": ["EXW", "Example Wire Service"], "Thomson Reuters": ["Reuters"]}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"dateline": "PARIS (EXW) - "}, "Example Wire"),
        ({"top": ("Example Wire",)}, "Example Wire"),  # the canonical name is an alias too
        ({"bottom": ("Source: Example Wire Service",)}, "Example Wire"),
        ({"dateline": "MOSCOW (Reuters) - "}, "Thomson Reuters"),
        ({"bottom": ("(Reporting by Jane Doe; Editing by John Roe)",)}, "Thomson Reuters"),
        ({"dateline": "LONDON (AFP) - "}, None),  # the defaults are replaced
        ({"top": ("Sputnik",)}, None),
        ({"bottom": ("Copyright 2022 The Associated Press. All rights reserved.",)}, None),
        ({"dateline": "PARIS (exw) - "}, None),  # short aliases are case-sensitive
    ],
)
def test_custom_agencies(kwargs: dict, expected: str | None) -> None:
    assert WireAttributor(CUSTOM).detect(post(**kwargs)) == expected


def test_custom_agencies_accept_tuples_and_bare_strings() -> None:
    wire = WireAttributor({"Example Wire": ("EXW",), "Other Wire": "OWS"})
    assert wire.detect(post(dateline="PARIS (EXW) - ")) == "Example Wire"
    assert wire.detect(post(bottom=("Source: OWS",))) == "Other Wire"
    assert wire.detect(post(bottom=("Source: O",))) is None  # not split into characters


def test_reuters_footer_needs_reuters_configured() -> None:
    footer = ("(Reporting by Jane Doe; Editing by John Roe)",)
    assert WireAttributor({"Example Wire": ["EXW"]}).detect(post(bottom=footer)) is None


def test_no_agencies_attribute_nothing() -> None:
    assert WireAttributor({}).detect(SEED_POST) is None
    assert WireAttributor({}).detect(post(dateline="MOSCOW (Reuters) - ")) is None


@pytest.mark.parametrize(("canonical", "aliases"), sorted(DEFAULT_AGENCIES.items()))
def test_every_default_agency_and_alias_is_detected(
    canonical: str, aliases: tuple[str, ...]
) -> None:
    for alias in (canonical, *aliases):
        assert WIRE.detect(post(bottom=(f"Source: {alias}",))) == canonical, alias


def test_default_agencies_cover_the_main_wires() -> None:
    for name in ("Reuters", "Associated Press", "AFP", "Sputnik", "TASS", "Xinhua", "Bloomberg"):
        assert name in DEFAULT_AGENCIES
    assert "AP" in DEFAULT_AGENCIES["Associated Press"]
    assert "Agence France-Presse" in DEFAULT_AGENCIES["AFP"]


# --- degenerate and large inputs -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", " \r\n \t\n"])
def test_empty_text(text: str) -> None:
    assert WIRE.detect(text) is None
    assert WIRE.detect(text, title="Sputnik") is None


def _timed(text: str) -> tuple[str | None, float]:
    """What detect finds, and the CPU seconds it took (not wall time, which other processes
    on a busy machine stretch)."""
    start = time.thread_time()
    found = WIRE.detect(text, title="Talks To Continue")
    return found, time.thread_time() - start


def test_large_text_is_fast() -> None:
    body = BODY * 5000  # about 1.3 MB
    assert len("\n\n".join(body)) > 1_000_000
    for text, expected in [
        (post(body=body, top=("Sputnik",)), "Sputnik"),
        (post(body=body, bottom=("Source: AFP",)), "AFP"),
        (post(body=body, dateline="LONDON (AFP) - "), "AFP"),
        (post(body=body), None),
    ]:
        found, seconds = _timed(text)
        assert found == expected
        assert seconds < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "A" * 2_000_000,
        "MOSCOW, " + "A, " * 700_000,
        "(" * 1_000_000,
        "\u00a9" * 1_000_000,
        "(Reporting by " + "x; " * 500_000,
        "By " + "x, " * 500_000,
        "\n" * 1_000_000 + "Sputnik" + "\n \n" * 300_000,
        ("MOSCOW " + "A, " * 60 + "(") * 3 + "\n" + ("B " * 300 + "\n") * 20,
    ],
)
def test_pathological_text_is_fast(text: str) -> None:
    found, seconds = _timed(text)
    assert found in (None, "Sputnik")
    assert seconds < 1.0
