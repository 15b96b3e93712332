"""Wire attribution: which news agency's copy a (re)posted article is, for `wire_source`.

Only attribution *forms* count, never a mention in running text ("Reuters reported that ..."):

- datelines opening one of the first paragraphs: "MOSCOW (Reuters) -", "WASHINGTON, Jan 9
  (Reuters) -", "(AP) --", "BEIJING, Jan. 9 (Xinhua) --", "MOSCOW, January 9. /TASS/.";
- credit lines, whole short lines near the top or the bottom: "Sputnik", "By Reuters",
  "Reuters staff", "— Reuters", "By Jane Doe, Reuters", "Source: AFP", "Via TASS";
- footers, near the bottom only: "Copyright 2022 The Associated Press. All rights reserved.",
  "© Agence France-Presse", "This article originally appeared on Sputnik", Reuters'
  "(Reporting by ...; Editing by ...)", "Associated Press writer X contributed to this report."

When signals disagree the dateline wins, then a credit line at the top, then a credit or footer
line at the bottom; within one tier the first in reading order wins.

Cost is bounded whatever the text size: only the first `HEAD_LINES` and last `TAIL_LINES`
non-empty lines are read as credits/footers, the first `DATELINE_LINES` non-empty lines (their
first `DATELINE_CHARS` characters) as datelines, and lines longer than `CREDIT_MAX_CHARS` /
`FOOTER_MAX_CHARS` are body paragraphs, not credits. All patterns are anchored at a line start
and use bounded repetition, so no input can make them backtrack catastrophically.

Aliases of at most `CASE_SENSITIVE_MAX` characters ("AP", "RT", "dpa", "TASS") match case-
sensitively (as written or all upper case), so "ap" or "Rt" never match; longer ones ignore case.
Aliases in `CREDIT_ONLY_ALIASES` ("RT") count only in credit and footer lines, never in datelines.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path

DEFAULT_AGENCIES: dict[str, tuple[str, ...]] = {
    "Reuters": ("Reuters", "Thomson Reuters"),
    "Associated Press": ("Associated Press", "The Associated Press", "AP"),
    "AFP": ("AFP", "Agence France-Presse", "Agence France Presse"),
    "Sputnik": ("Sputnik", "Sputnik News", "Sputnik International", "RIA Novosti"),
    "TASS": ("TASS", "ITAR-TASS"),
    "Xinhua": ("Xinhua", "Xinhua News Agency"),
    "Bloomberg": ("Bloomberg", "Bloomberg News"),
    "UPI": ("UPI", "United Press International"),
    "dpa": ("dpa", "Deutsche Presse-Agentur"),
    "ANI": ("ANI", "Asian News International"),
    "PTI": ("PTI", "Press Trust of India"),
    "IANS": ("IANS", "Indo-Asian News Service"),
    "Anadolu Agency": ("Anadolu Agency", "Anadolu Ajansi"),
    "EFE": ("EFE", "Agencia EFE"),
    "ANSA": ("ANSA",),
    "Kyodo": ("Kyodo", "Kyodo News"),
    "Yonhap": ("Yonhap", "Yonhap News Agency"),
    "AAP": ("AAP", "Australian Associated Press"),
    "The Canadian Press": ("The Canadian Press", "Canadian Press"),
    "RT": ("RT", "Russia Today"),
    "Interfax": ("Interfax",),
    "IRNA": ("IRNA", "Islamic Republic News Agency"),
    "Al Jazeera": ("Al Jazeera", "Al Jazeera English"),
}

HEAD_LINES = 6  # first non-empty lines read as (top) credit lines
TAIL_LINES = 8  # last non-empty lines read as (bottom) credit and footer lines
DATELINE_LINES = 10  # first non-empty lines (paragraphs) whose start may be a dateline
DATELINE_CHARS = 200
TITLE_SEARCH_LINES = 20  # how far down the title line is looked for ...
AFTER_TITLE_LINES = 2  # ... and how many lines after it are top credit candidates
CREDIT_MAX_CHARS = 120
FOOTER_MAX_CHARS = 500
CASE_SENSITIVE_MAX = 4
CREDIT_ONLY_ALIASES = frozenset({"RT"})

_LINE = re.compile(r"[^\s][^\r\n]*")  # one non-empty line, without its leading blanks
_SPACES = re.compile(r"\s+")
_NEWLINE = re.compile(r"[\r\n]")
_STRIP = " \t\r\n*_"  # blanks and markdown emphasis around a line

_THE = r"(?:(?i:the)\s+)?"
_DASH = r"(?:-{1,3}|[\u2013\u2014]{1,2})"
# After an alias: no word going on ("APT", "Reutersville", "AP-NORC", "AP's"), and no photo credit.
_END = r"(?![\w'\u2019-])(?!\s*(?:/|(?i:photos?|pictures?|pics?|images?|videos?|graphics?)\b))"
_STAFF = (
    r"(?:\s+(?i:staff(?:\s+(?:writers?|reporters?))?|reporters?|correspondents?|news\s*desk"
    r"|editors|(?:news)?wires?))?"
)
_REUTERS_FOOTER = re.compile(
    r"\(?\s*(?i:(?:additional\s+)?(?:reporting|writing)\s+by)\s[^\r\n]{0,400}?(?i:editing\s+by)\s"
)


def load_agencies(value: Mapping[str, Sequence[str]] | str | None) -> dict[str, list[str]] | None:
    """The WIRE_AGENCIES setting as a dict: given as a dict, or as the path of a TOML file of
    `Name = ["Alias", ...]` lines; None keeps the built-in list."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = tomllib.loads(Path(value).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"WIRE_AGENCIES: cannot read {value}: {exc}") from None
    agencies = {}
    for name, aliases in value.items():
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, Sequence) or not all(isinstance(a, str) for a in aliases):
            raise ValueError(f"WIRE_AGENCIES: {name!r} needs a list of alias strings")
        agencies[str(name)] = list(aliases)
    return agencies


class WireAttributor:
    """Detect the wire service behind a text; build once, call `detect` per article."""

    def __init__(self, agencies: Mapping[str, Sequence[str]] | None = None) -> None:
        """`agencies` (canonical name -> aliases) replaces `DEFAULT_AGENCIES` when given.

        The canonical name is always an alias of itself; a bare string value is one alias; an
        alias listed under several names belongs to the first.
        """
        mapping = DEFAULT_AGENCIES if agencies is None else agencies
        self._exact: dict[str, str] = {}  # alias as written (short aliases also upper case)
        self._folded: dict[str, str] = {}  # casefolded long alias
        short: set[str] = set()
        long: set[str] = set()
        for canonical, raw_aliases in mapping.items():
            aliases = [raw_aliases] if isinstance(raw_aliases, str) else list(raw_aliases)
            for raw in (canonical, *aliases):
                alias = _SPACES.sub(" ", str(raw)).strip()
                if not alias:
                    continue
                if len(alias) <= CASE_SENSITIVE_MAX:
                    for form in (alias, alias.upper()):
                        self._exact.setdefault(form, canonical)
                        short.add(form)
                else:
                    self._exact.setdefault(alias, canonical)
                    self._folded.setdefault(alias.casefold(), canonical)
                    long.add(alias)
        self._reuters = self._lookup("Reuters")
        self._datelines: tuple[re.Pattern[str], ...] = ()
        self._credits: tuple[re.Pattern[str], ...] = ()
        self._footers: tuple[re.Pattern[str], ...] = ()
        if not short and not long:
            return
        any_alias = _alternation(short, long)
        dateline_short = {alias for alias in short if alias not in CREDIT_ONLY_ALIASES}
        self._datelines = _dateline_patterns(_alternation(dateline_short, long))
        self._credits, self._footers = _credit_patterns(any_alias), _footer_patterns(any_alias)

    def detect(self, text: str, title: str | None = None) -> str | None:
        """The canonical name of the wire service `text` credits, or None.

        `title`, when given, is never read as a credit or dateline (a post titled "Sputnik" is not
        credited to it), and the lines right after the title line are read as top credits even
        when it sits below the first `HEAD_LINES` lines (blog headers, navigation).
        """
        if not text or not self._credits:
            return None
        title_key = (_key(title) or None) if title else None
        for line in islice(_lines(text), DATELINE_LINES):
            if _is_title(line, title_key):
                continue
            found = self._match(self._datelines, line[:DATELINE_CHARS])
            if found:
                return found
        for line in self._top_lines(text, title_key):
            found = self._match_credit(line, footer=False)
            if found:
                return found
        for line in _tail_lines(text, TAIL_LINES):
            if _is_title(line, title_key):
                continue
            found = self._match_credit(line, footer=True)
            if found:
                return found
        return None

    def _top_lines(self, text: str, title_key: str | None) -> list[str]:
        """The first `HEAD_LINES` non-title lines, then the few lines after the title."""
        lines = list(islice(_lines(text), TITLE_SEARCH_LINES + AFTER_TITLE_LINES))
        top = [line for line in lines[:HEAD_LINES] if not _is_title(line, title_key)]
        if title_key is not None:
            for i, line in enumerate(lines[:TITLE_SEARCH_LINES]):
                if _is_title(line, title_key):
                    top += [x for x in lines[i + 1 : i + 1 + AFTER_TITLE_LINES] if x not in top]
                    break
        return top

    def _match_credit(self, line: str, *, footer: bool) -> str | None:
        if len(line) <= CREDIT_MAX_CHARS:
            found = self._match(self._credits, line)
            if found:
                return found
        if not footer or len(line) > FOOTER_MAX_CHARS:
            return None
        found = self._match(self._footers, line)
        if found:
            return found
        if self._reuters is not None and _REUTERS_FOOTER.match(line):
            return self._reuters
        return None

    def _match(self, patterns: tuple[re.Pattern[str], ...], line: str) -> str | None:
        for pattern in patterns:
            m = pattern.match(line)
            if m:
                return self._lookup(m.group("agency"))
        return None

    def _lookup(self, alias: str) -> str | None:
        alias = _SPACES.sub(" ", alias)
        return self._exact.get(alias) or self._folded.get(alias.casefold())


def _alternation(short: set[str], long: set[str]) -> str:
    """One group matching any alias: short ones case-sensitively, long ones ignoring case."""
    parts = [(alias, False) for alias in short] + [(alias, True) for alias in long]
    parts.sort(key=lambda part: (-len(part[0]), part[0]))  # longest first
    branches = []
    for alias, fold in parts:
        body = r"\s+".join(re.escape(word) for word in alias.split(" "))
        branches.append(f"(?i:{body})" if fold else body)
    if not branches:
        return r"(?P<agency>(?!))"  # matches nothing
    return rf"(?<!\w)(?P<agency>{'|'.join(branches)})"


def _dateline_patterns(agency: str) -> tuple[re.Pattern[str], ...]:
    # PLACE: up to five words, the first capitalised ("NEW YORK", "KYIV/MOSCOW", "Rio de Janeiro"),
    # then up to two comma-separated parts (", Ukraine", ", Jan. 9"), all optional ("(AP) --").
    place = r"(?:[A-Z][^\s,()]{0,40}(?:\s+[^\s,()]{1,40}){0,4})?(?:\s*,\s*[^(),\r\n]{1,40}){0,2}"
    return (
        re.compile(rf"{place}\s*\(\s*{agency}\s*\)\s*(?:{_DASH}|:)"),  # "LONDON (AFP) -"
        re.compile(rf"{place}\s*/\s*{agency}\s*/"),  # "MOSCOW, January 9. /TASS/."
    )


def _credit_patterns(agency: str) -> tuple[re.Pattern[str], ...]:
    end = rf"{_END}[^\r\n]{{0,80}}"  # a short rest of line: "Source: AFP, Reuters"
    return (
        # "Sputnik", "By Reuters", "Reuters staff", "— Reuters", "Via TASS", "By The AP."
        re.compile(
            rf"(?:(?i:by|from|via|credit|courtesy(?:\s+of)?)\s*:?\s+|{_DASH}\s*)?"
            rf"{_THE}{agency}{_STAFF}\s*[.,;]?\s*$"
        ),
        # "By Jane Doe, Reuters", "By John Smith | Sputnik", "By Jane Doe for AFP"
        re.compile(
            rf"(?i:by)\s+[^\r\n]{{1,80}}?(?:\s*[,|/]\s*|\s+[\u2013\u2014-]\s+|\s+(?i:for|of)\s+)"
            rf"{_THE}{agency}{_STAFF}\s*\.?\s*$"
        ),
        # "Source: AFP", "Sources: Al Jazeera and news agencies", "Via: TASS", "Courtesy of AP"
        re.compile(
            rf"(?i:sources?|via|credit|courtesy(?:\s+of)?)\s*(?::|{_DASH})[*_]{{0,3}}\s*"
            rf"{_THE}{agency}{end}$"
        ),
    )


def _footer_patterns(agency: str) -> tuple[re.Pattern[str], ...]:
    return (
        # "Copyright 2022 The Associated Press. All rights reserved.", "© Agence France-Presse"
        re.compile(
            rf"(?:(?:(?i:copyright|\(c\))|©)\s*){{1,3}}"
            rf"(?:\d{{4}}(?:\s*[-\u2013]\s*\d{{4}})?\s*,?\s*)?{_THE}{agency}{_END}"
        ),
        # "This article originally appeared on Sputnik", "Originally published by AFP"
        re.compile(
            r"(?i:(?:this\s+(?:article|story|piece|post|report)\s+)?(?:was\s+)?"
            r"(?:(?:originally|first)\s+(?:appeared|published|posted|ran)|appeared|published)"
            r"\s+(?:on|at|in|by)"
            r"|republished\s+(?:from|with\s+permission\s+(?:from|of))"
            r"|reprinted\s+(?:from|with\s+permission\s+(?:from|of)))"
            rf"\s+{_THE}{agency}{_END}"
        ),
        # "Associated Press writer Jim Heintz in Moscow contributed to this report."
        re.compile(
            rf"{_THE}{agency}\s+(?i:writers?|reporters?|correspondents?|journalists?|staff)\s"
            r"[^\r\n]{0,300}?(?i:contributed\s+to\s+this\s+(?:report|story|article))"
        ),
    )


def _key(line: str) -> str:
    return _SPACES.sub(" ", line).strip(_STRIP).casefold()


def _is_title(line: str, title_key: str | None) -> bool:
    return (
        title_key is not None and len(line) <= 2 * len(title_key) + 20 and _key(line) == title_key
    )


def _clean(line: str) -> str:
    return line.strip(_STRIP)


def _lines(text: str) -> Iterator[str]:
    """Non-empty lines from the top, stripped; lazily, so only what is read is scanned."""
    for m in _LINE.finditer(text):
        line = _clean(m.group())
        if line:
            yield line


def _tail_lines(text: str, count: int) -> list[str]:
    """The last `count` non-empty lines, stripped, reading only as much of the end as needed."""
    size = 4096
    while True:
        start = max(0, len(text) - size)
        chunk = text[start:]
        if start > 0:  # drop the (possibly partial) line the chunk starts in
            newline = _NEWLINE.search(chunk)
            chunk = chunk[newline.end() :] if newline else ""
        lines = [line for line in map(_clean, _LINE.findall(chunk)) if line]
        if len(lines) >= count or start == 0:
            return lines[-count:]
        size *= 4
