"""Word-level differences between two versions of a text: what an edit of an article added,
cut or changed, as `wdiff` and NewsDiffs show it.

Texts are compared word by word, paragraph breaks counting as words of their own, so that a
paragraph added or removed is one change and the rest of the text lines up again after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

EQUAL, INSERT, DELETE = "equal", "insert", "delete"
_BREAK = "\n"
_TOKEN = re.compile(r"\n|[^\s]+")


@dataclass(frozen=True)
class Span:
    """A run of words that both versions share (`equal`), or only the new (`insert`) or the
    old (`delete`) one has; paragraph breaks are newlines in `text`."""

    op: str
    text: str

    @property
    def words(self) -> int:
        """How many words the span holds (paragraph breaks are not counted)."""
        return len(self.text.split())


def _tokens(text: str) -> list[str]:
    """Words and paragraph breaks (one per run of line breaks)."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text.strip()):
        if token != _BREAK or (tokens and tokens[-1] != _BREAK):
            tokens.append(token)
    return tokens


def _join(tokens: list[str]) -> str:
    return re.sub(r" ?\n ?", "\n", " ".join(tokens))


def word_diff(old: str, new: str) -> list[Span]:
    """The spans that turn `old` into `new`: equal, deleted and inserted runs of words, in
    text order (a replaced run is its deletion, then its insertion)."""
    spans: list[Span] = []
    for equal, removed, added in _chunks(_tokens(old or ""), _tokens(new or "")):
        if equal:
            spans.append(Span(EQUAL, _join(equal)))
        if removed:
            spans.append(Span(DELETE, _join(removed)))
        if added:
            spans.append(Span(INSERT, _join(added)))
    return spans


def _chunks(a: list[str], b: list[str]) -> list[tuple[list[str], list[str], list[str]]]:
    """(equal, removed, added) token runs. A run the versions share within a paragraph
    between two changes, shorter than each of them ("the" amid a rewritten sentence), joins
    them, as diff-match-patch's semantic cleanup does: a rewritten sentence reads as one
    replacement, not as a scatter of the words that happen to recur in it."""
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    chunks: list[tuple[list[str], list[str], list[str]]] = []
    for n, (op, i1, i2, j1, j2) in enumerate(opcodes):
        joins = bool(chunks) and not chunks[-1][0]  # a change is open
        if op == "equal" and joins:
            joins = n < len(opcodes) - 1 and _BREAK not in a[i1:i2]
        if op == "equal" and joins:
            before = max(len(chunks[-1][1]), len(chunks[-1][2]))
            _, k1, k2, l1, l2 = opcodes[n + 1]
            joins = i2 - i1 < min(before, max(k2 - k1, l2 - l1))
        if op == "equal" and not joins:
            chunks.append((a[i1:i2], [], []))
        elif joins:
            chunks[-1][1].extend(a[i1:i2])
            chunks[-1][2].extend(b[j1:j2])
        else:
            chunks.append(([], a[i1:i2], b[j1:j2]))
    return chunks


def changed(spans: list[Span]) -> bool:
    """Whether the versions differ in any word."""
    return any(span.op != EQUAL and span.words for span in spans)


def counts(spans: list[Span]) -> tuple[int, int]:
    """(words added, words removed)."""
    added = sum(span.words for span in spans if span.op == INSERT)
    removed = sum(span.words for span in spans if span.op == DELETE)
    return added, removed


def paragraphs(spans: list[Span], mark: Callable[[str, str], str]) -> list[tuple[str, bool]]:
    """The new text's paragraphs with the changes marked, each with whether it holds a change:
    `mark(op, words)` renders each run of words within one paragraph (removed ones too)."""
    lines: list[tuple[list[str], list[bool]]] = [([], [])]
    for span in spans:
        for n, piece in enumerate(span.text.split(_BREAK)):
            if n:
                lines.append(([], []))
            if piece.strip():
                lines[-1][0].append(mark(span.op, piece.strip()))
                lines[-1][1].append(span.op != EQUAL)
    return [(" ".join(parts), any(flags)) for parts, flags in lines if parts]


def _wdiff(op: str, words: str) -> str:
    return words if op == EQUAL else f"[-{words}-]" if op == DELETE else f"{{+{words}+}}"


def marked(spans: list[Span]) -> str:
    """The new text with the changes marked as `wdiff` does, readable without colour:
    [-removed words-] and {+added words+}, each paragraph's own marks closed within it."""
    return _BREAK.join(text for text, _ in paragraphs(spans, _wdiff))


def changed_paragraphs(spans: list[Span], mark: Callable[[str, str], str] = _wdiff) -> list[str]:
    """The paragraphs that hold a change, marked (as `wdiff` does, unless `mark` says how), in
    order: what a reader of a long article needs to see of a small edit."""
    return [text for text, changes in paragraphs(spans, mark) if changes]
