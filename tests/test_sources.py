"""The sources file: the example loads, mistakes are reported with where and why."""

from __future__ import annotations

import pytest

from crawlers.sources import Source, SourcesError, load_sources
from tests.conftest import ROOT


def test_example_sources_file_loads():
    sources = load_sources(ROOT / "sources.example.toml")
    assert [s.name for s in sources] == ["wirewatch", "example-wp", "example-news", "pinned"]
    assert sources[0] == Source(
        name="wirewatch", url="https://wirewatch.blogspot.com/", kind="blogger"
    )
    assert sources[1].kind == "auto"
    assert sources[3].url == sources[3].urls[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no [[sources]] tables"),
        ("[[sources]\nname=", "not valid TOML"),
        ('[[sources]]\nurl = "https://a.example/"', "'name' must be"),
        ('[[sources]]\nname = "a b"\nurl = "https://a.example/"', "'name' must be"),
        ('[[sources]]\nname = "a"', "'url' is required"),
        ('[[sources]]\nname = "a"\nurl = "ftp://a.example/"', "scheme ftp"),
        ('[[sources]]\nname = "a"\nurl = "https://a.example/"\nkind = "rsss"', "kind 'rsss'"),
        ('[[sources]]\nname = "a"\nkind = "urls"', "needs a 'urls' list"),
        ('[[sources]]\nname = "a"\nurl = "https://a.example/"\nmax_pages = -1', "max_pages"),
        ('[[sources]]\nname = "a"\nurl = "https://a.example/"\nfrequency = 1', "unknown field"),
        (
            '[[sources]]\nname = "a"\nurl = "https://a.example/"\n'
            '[[sources]]\nname = "a"\nurl = "https://b.example/"',
            "must be unique: a",
        ),
    ],
)
def test_mistakes_are_explained(tmp_path, text, message):
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(SourcesError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_sources(path)


def test_missing_file_is_explained(tmp_path):
    with pytest.raises(SourcesError, match="no such sources file"):
        load_sources(tmp_path / "nope.toml")
