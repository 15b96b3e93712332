"""The edits feed (`/changes.atom`): an Atom 1.0 entry for each change of title or text,
newest first, so that people can subscribe to the stealth edits of the sites archived."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from markupsafe import escape

from archive.core.worddiff import DELETE, EQUAL, changed_paragraphs
from archive.storage.edits import Diff

ATOM = "http://www.w3.org/2005/Atom"


def changes_feed(edits: list[Diff], base_url: str, self_url: str) -> bytes:
    """The Atom document of `edits` (newest first); links are made absolute on `base_url`."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", f"{base_url}changes.atom")
    _text(feed, "title", "wirearchive: edits of archived articles")
    newest = max((edit.new.fetched_at for edit in edits), default="1970-01-01T00:00:00+00:00")
    _text(feed, "updated", newest)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", "wirearchive")
    for edit in edits:
        feed.append(_entry(edit, base_url))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry(edit: Diff, base_url: str) -> ET.Element:
    article = edit.article
    added, removed = edit.words
    entry = ET.Element(f"{{{ATOM}}}entry")
    _text(entry, "id", f"{base_url}articles/{article['id']}#v{edit.new.number}")
    headline = " (headline changed)" if edit.title_changed else ""
    _text(
        entry, "title", f"{edit.new.title or article['url']}: +{added} -{removed} words{headline}"
    )
    _text(entry, "updated", edit.new.fetched_at)
    ET.SubElement(
        entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base_url}articles/{article['id']}"
    )
    ET.SubElement(entry, f"{{{ATOM}}}link", rel="via", href=article["url"])
    summary = (
        f"Version {edit.old.number} (fetched {edit.old.fetched_at}) to version {edit.new.number} "
        f"(fetched {edit.new.fetched_at}) of {article['url']}"
    )
    _text(entry, "summary", summary)
    body = ET.SubElement(entry, f"{{{ATOM}}}content", type="html")
    body.text = "".join(f"<p>{paragraph}</p>" for paragraph in marked_html(edit))
    return entry


def marked_html(edit: Diff) -> list[str]:
    """The changed paragraphs of the title and text as HTML: <del> and <ins> around what was
    removed and added, escaped (a page's text never becomes markup)."""
    title = changed_paragraphs(edit.title, _html) if edit.title_changed else []
    return title + changed_paragraphs(edit.text, _html)


def _html(op: str, words: str) -> str:
    text = str(escape(words))
    return text if op == EQUAL else f"<del>{text}</del>" if op == DELETE else f"<ins>{text}</ins>"


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = value
    return element
