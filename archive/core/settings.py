"""Every wirearchive setting, declared once: its environment variable, type, default, a line
of documentation and its valid range (the fields of `Settings` below).

A command reads them once when it starts (`from_environ`), options on top (`with_options`:
option > environment > default); a bad value is a `SettingsError` whose message is one line
naming the variable, the value and what is expected. crawlers/settings.py hands the values
to Scrapy (`scrapy_values`), and docs/configuration.md is generated from `SETTINGS`
(`markdown_reference`). This module imports nothing else of wirearchive.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting's value is not what it must be; the message is one line naming it."""


@dataclass(frozen=True)
class Kind:
    """A type of setting: how its text is read, and how its value is written back."""

    name: str  # as the configuration reference shows it
    noun: str  # "'abc' is not <noun>"
    expected: str  # "(expected <expected>, e.g. <example>)"
    parse: Callable[[str], Any]  # raises ValueError
    show: Callable[[Any], str] = str
    with_example: bool = True  # whether errors give an example (not when `expected` lists all)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _show_number(value: float) -> str:
    return f"{value:g}"


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?", re.IGNORECASE)
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def _duration(text: str) -> float:
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(text)
    return float(match[1]) * _SECONDS[(match[2] or "s").lower()]


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?", re.IGNORECASE)


def _size(text: str) -> int:
    match = _SIZE.fullmatch(text)
    if match is None or ("." in match[1] and not match[2]):
        raise ValueError(text)
    unit = (match[2] or "b").lower().rstrip("b")
    factor = (1024 if unit.endswith("i") else 1000) ** " kmg".index(unit[:1] or " ")
    return int(float(match[1]) * factor)


def _bool(text: str) -> bool:
    word = text.lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise ValueError(text)
    return word in TRUE_WORDS


def _show_bool(value: bool) -> str:
    return "1" if value else "0"


def _log_level(text: str) -> str:
    if text.upper() not in LOG_LEVELS:
        raise ValueError(text)
    return text.upper()


def _networks(text: str) -> str:
    items = [item.strip() for item in text.split(",") if item.strip()]
    for item in items:
        ipaddress.ip_network(item, strict=False)
    return ",".join(items)


def _allowed(text: str) -> str | None:
    """ALLOW_PRIVATE: a yes (all of them), a no (none), or networks."""
    word = text.lower()
    if word in TRUE_WORDS:
        return "1"
    return None if word in FALSE_WORDS else _networks(text)


def _redis_url(text: str) -> str:
    if not text.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(text)
    return text


STR = Kind("text", "text", "any text", str)
PATH = Kind("path", "a path", "a file or folder path", str)
INT = Kind("int", "a whole number", "a whole number", int)
FLOAT = Kind("float", "a number", "a number", _number, _show_number)
BOOL = Kind(
    "bool", "a yes or no", "1 or 0, true or false, yes or no, on or off", _bool, _show_bool, False
)
SIZE = Kind("bytes", "a size", "bytes, or a number with kB, MB, GB, KiB, MiB or GiB", _size)
DURATION = Kind(
    "seconds", "a duration", "seconds, or a number with ms, s, m or h", _duration, _show_number
)
LEVEL = Kind("log level", "a log level", ", ".join(LOG_LEVELS), _log_level, with_example=False)
NETWORKS = Kind(
    "networks", "a list of networks", "addresses or networks, comma-separated", _networks
)
ALLOW = Kind("1 or networks", "1 or a list of networks", "1 (all) or networks", _allowed)
REDIS_URL = Kind("URL", "a Redis URL", "redis://HOST:PORT/DB", _redis_url, with_example=False)


@dataclass(frozen=True)
class Setting:
    """One setting: where it comes from, its type and default, what it does."""

    env: str  # the environment variable
    kind: Kind
    default: Any  # None: unset
    doc: str
    scrapy: str | None  # the Scrapy setting it is given to; None: not one
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None  # an exclusive minimum
    example: str | None = None  # shown in errors when the default is unset
    attr: str = ""  # the field of Settings

    def parse(self, text: str, label: str | None = None) -> Any:
        """The value of `text`, checked; SettingsError names `label` (default: the variable).
        Empty text is the default."""
        label = label or self.env
        text = text.strip()
        if not text:
            return self.default
        try:
            value = self.kind.parse(text)
        except ValueError:
            raise SettingsError(
                f"{label}: {text!r} is not {self.kind.noun} (expected {self.expected()})"
            ) from None
        if not self.in_range(value):
            raise SettingsError(
                f"{label}: {text!r} is out of range (expected {self.kind.noun} {self.bounds()})"
            )
        return value

    def in_range(self, value: Any) -> bool:
        """Whether `value` is within the setting's bounds."""
        return not (
            (self.minimum is not None and value < self.minimum)
            or (self.maximum is not None and value > self.maximum)
            or (self.above is not None and value <= self.above)
        )

    def bounds(self) -> str:
        """The range, as in `>= 1` or `> 0 and <= 1`; empty when unbounded."""
        parts = [
            f"{sign} {_show_number(bound)}"
            for sign, bound in ((">=", self.minimum), (">", self.above), ("<=", self.maximum))
            if bound is not None
        ]
        return " and ".join(parts)

    def expected(self) -> str:
        """What a value must be, with an example."""
        example = self.example or self.show(self.default)
        given = f", e.g. {example}" if self.kind.with_example and example else ""
        return f"{self.kind.expected}{given}"

    def show(self, value: Any) -> str:
        """`value` as it would be written in the environment."""
        return "" if value is None else self.kind.show(value)


def _setting(
    env: str,
    kind: Kind,
    default: Any,
    doc: str,
    *,
    scrapy: str | bool | None = True,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    example: str | None = None,
) -> Any:
    """A field of Settings declaring one setting; `scrapy=True`: its Scrapy setting has the
    variable's name, `scrapy=None`: it is not a Scrapy setting."""
    declared = Setting(
        env,
        kind,
        default,
        doc,
        env if scrapy is True else scrapy or None,
        minimum,
        maximum,
        above,
        example,
    )
    return field(default=default, metadata={"setting": declared})


@dataclass(frozen=True)
class Settings:
    """The values of every setting; a field `db` is the variable WIREARCHIVE_DB."""

    # Where the archive lives.
    db: str = _setting(
        "WIREARCHIVE_DB", PATH, "wirearchive-data/archive.db", "The SQLite catalog file."
    )
    store: str = _setting(
        "WIREARCHIVE_STORE",
        STR,
        "wirearchive-data/objects",
        "The object store: a folder, or s3://bucket/prefix (endpoint from AWS_ENDPOINT_URL, "
        "credentials from boto3's usual chain).",
    )
    sources: str = _setting(
        "WIREARCHIVE_SOURCES",
        PATH,
        "sources.toml",
        "The sources file (TOML) that `crawl` and `seed` read.",
        scrapy=None,
    )
    spool: str | None = _setting(
        "WIREARCHIVE_SPOOL",
        PATH,
        None,
        "Where objects wait until the store has them; unset: `<catalog file>.spool/` beside "
        "the catalog. One catalog's: another catalog's runs are refused.",
    )
    # Writing and uploading.
    warc_bytes: int = _setting(
        "WIREARCHIVE_WARC_BYTES",
        SIZE,
        100_000_000,
        "Size at which a WARC file is closed, uploaded, and the next one started.",
        minimum=1,
    )
    warc_seconds: float = _setting(
        "WIREARCHIVE_WARC_SECONDS",
        DURATION,
        0.0,
        "Seconds after which an open WARC file is closed and uploaded however small (0: only "
        "at WARC_BYTES and the end of a run); `add` uses 1, so each URL is told archived as "
        "soon as the store has it.",
        minimum=0,
    )
    upload_interval: float = _setting(
        "WIREARCHIVE_UPLOAD_INTERVAL",
        DURATION,
        10.0,
        "Seconds between uploads of the spool during a crawl (also at each WARC rotation and "
        "at the end of a run).",
        above=0,
    )
    upload_workers: int = _setting(
        "WIREARCHIVE_UPLOAD_WORKERS",
        INT,
        4,
        "Threads that upload the spool to the store (crawls and `flush`).",
        minimum=1,
    )
    # Many crawler processes on one frontier (docs/scaling.md).
    redis: str | None = _setting(
        "WIREARCHIVE_REDIS",
        REDIS_URL,
        None,
        "The Redis database crawl workers share (`crawl --redis`): frontier, dedup state, "
        "near-duplicate index; unset: each crawl keeps its own.",
    )
    redis_lease: float = _setting(
        "WIREARCHIVE_REDIS_LEASE",
        DURATION,
        30.0,
        "Seconds a worker's requests stay held after its last heartbeat before others take them.",
        above=0,
    )
    # What may be fetched, and how.
    allow_private: str | None = _setting(
        "WIREARCHIVE_ALLOW_PRIVATE",
        ALLOW,
        None,
        "Loopback, private, link-local and reserved addresses are refused unless allowed "
        "here: 1 allows all of them, networks (comma-separated) only those.",
        example="127.0.0.0/8,10.0.0.0/8",
    )
    user_agent: str = _setting(
        "WIREARCHIVE_USER_AGENT",
        STR,
        "wirearchive/0.1 (+https://github.com/wirearchive/wirearchive)",
        "The User-Agent header of every request: identify your crawler here.",
        scrapy="USER_AGENT",
    )
    host_concurrency: int = _setting(
        "WIREARCHIVE_HOST_CONCURRENCY",
        INT,
        4,
        "Requests to one host at once, per crawling process (N workers: set it to 4 / N).",
        scrapy="CONCURRENT_REQUESTS_PER_DOMAIN",
        minimum=1,
    )
    download_timeout: float = _setting(
        "WIREARCHIVE_DOWNLOAD_TIMEOUT",
        DURATION,
        30.0,
        "Seconds a page's download may take, all its attempts together (one that times out "
        "is retried once, with what is left).",
        scrapy="DOWNLOAD_TIMEOUT",
        above=0,
    )
    max_bytes: int = _setting(
        "WIREARCHIVE_MAX_BYTES",
        SIZE,
        20 * 1024 * 1024,
        "Largest response body, also once decompressed; a larger page fails.",
        scrapy="DOWNLOAD_MAXSIZE",
        minimum=1,
    )
    max_retry_after: float = _setting(
        "WIREARCHIVE_MAX_RETRY_AFTER",
        DURATION,
        300.0,
        "Longest Retry-After of a 429 or 503 that is waited for; a longer one gives up on the "
        "page.",
        minimum=0,
    )
    # Crawl-trap bounds, per source and run.
    host_budget: int = _setting(
        "WIREARCHIVE_HOST_BUDGET",
        INT,
        20000,
        "Requests to one host in one run at most.",
        minimum=1,
    )
    max_listing_pages: int = _setting(
        "WIREARCHIVE_MAX_LISTING_PAGES",
        INT,
        2000,
        "Listing pages (feed pages, sitemaps, API pages) one source may read in one run.",
        minimum=1,
    )
    site_depth: int = _setting(
        "WIREARCHIVE_SITE_DEPTH",
        INT,
        3,
        "How many links deep the site spider follows from a source's start page.",
        minimum=0,
    )
    # Extraction.
    extract_workers: int = _setting(
        "WIREARCHIVE_EXTRACT_WORKERS",
        INT,
        0,
        "Extraction worker processes; 0: one per core.",
        minimum=0,
    )
    extract_timeout: float = _setting(
        "WIREARCHIVE_EXTRACT_TIMEOUT",
        DURATION,
        30.0,
        "A page's extraction time limit; past it the page fails, its worker is replaced, and "
        "the crawl goes on.",
        above=0,
    )
    extract_memory_mb: int = _setting(
        "WIREARCHIVE_EXTRACT_MEMORY_MB",
        INT,
        1024,
        "Each extraction worker's address-space limit in MB (0: none); past it the page "
        "fails and its worker is replaced.",
        minimum=0,
    )
    warm_up: bool = _setting(
        "WIREARCHIVE_WARM_UP",
        BOOL,
        True,
        "Whether the extraction forkserver runs the extractor over sample pages before a "
        "crawl forks its workers (0: off, as in the tests).",
        scrapy=None,
    )
    wire_agencies: str | None = _setting(
        "WIREARCHIVE_WIRE_AGENCIES",
        PATH,
        None,
        'A TOML file of `Name = ["Alias", ...]` lines that replaces the built-in wire '
        "services for attribution (the Scrapy setting may also be a dict of the same).",
        scrapy="WIRE_AGENCIES",
    )
    near_threshold: float = _setting(
        "WIREARCHIVE_NEAR_THRESHOLD",
        FLOAT,
        0.5,
        "Estimated Jaccard similarity of word shingles at or above which two articles are one "
        "story (chosen by measurement: benchmarks/dedup.py).",
        above=0,
        maximum=1,
    )
    shingle_size: int = _setting(
        "WIREARCHIVE_SHINGLE_SIZE",
        INT,
        4,
        "Words per shingle for near-duplicate detection (chosen by measurement).",
        minimum=1,
    )
    # The crawl process.
    memory_limit_mb: int = _setting(
        "WIREARCHIVE_MEMORY_LIMIT_MB",
        INT,
        2048,
        "The crawl process's memory limit in MB (0: none): a warning past half, and past it "
        "the crawl closes as on Ctrl-C.",
        scrapy="MEMUSAGE_LIMIT_MB",
        minimum=0,
    )
    log_level: str = _setting(
        "WIREARCHIVE_LOG_LEVEL",
        LEVEL,
        "INFO",
        "Scrapy's log level of `scrapy crawl` and of `add -v`, `crawl -v` (without -v they "
        "log warnings only).",
        scrapy="LOG_LEVEL",
    )
    crawl_id: int | None = _setting(
        "WIREARCHIVE_CRAWL_ID",
        INT,
        None,
        "The crawls row a run reports into; set by `wirearchive crawl` (unset: each "
        "`scrapy crawl` makes its own).",
        minimum=1,
        example="12",
    )
    seed_only: bool = _setting(
        "WIREARCHIVE_SEED_ONLY",
        BOOL,
        False,
        "Queue the sources' start requests in the Redis frontier and fetch nothing; set by "
        "`wirearchive seed`.",
    )
    # Who made the archive: written into the warcinfo record that opens each WARC file.
    operator: str | None = _setting(
        "WIREARCHIVE_OPERATOR",
        STR,
        None,
        "The person or organisation running the crawls (a name, and how to reach them), "
        "for the warcinfo records of the WARC files.",
    )
    description: str | None = _setting(
        "WIREARCHIVE_DESCRIPTION",
        STR,
        None,
        "What the archive is, for the warcinfo records of the WARC files.",
    )
    # The HTTP service (`wirearchive serve`).
    api_token: str | None = _setting(
        "WIREARCHIVE_API_TOKEN",
        STR,
        None,
        "When set, submitting URLs to the HTTP API needs this bearer token.",
        scrapy=None,
    )
    api_queue: int = _setting(
        "WIREARCHIVE_API_QUEUE",
        INT,
        100,
        "Submitted jobs that may wait; more are refused (503).",
        scrapy=None,
        minimum=1,
    )
    api_rate: int = _setting(
        "WIREARCHIVE_API_RATE",
        INT,
        30,
        "Submissions a minute per client.",
        scrapy=None,
        minimum=1,
    )
    trusted_proxies: str | None = _setting(
        "WIREARCHIVE_TRUSTED_PROXIES",
        NETWORKS,
        None,
        "Proxies whose X-Forwarded-For is believed (addresses or networks); unset: none.",
        scrapy=None,
        example="127.0.0.1,10.0.0.0/8",
    )

    def with_options(self, **options: Any) -> Settings:
        """These settings with command-line options on top (None: not given); text is
        checked as the variable's would be, an error naming the option."""
        values = {}
        for name, value in options.items():
            if value is None:
                continue
            if isinstance(value, str):
                value = SETTING[name].parse(value, f"--{name.replace('_', '-')}")
            values[name] = value
        return replace(self, **values)


SETTINGS: tuple[Setting, ...] = tuple(
    replace(f.metadata["setting"], attr=f.name) for f in fields(Settings)
)
SETTING: dict[str, Setting] = {s.attr: s for s in SETTINGS}  # by field name
DEFAULTS = Settings()


def read_settings(environ: Mapping[str, str]) -> Settings:
    """Every setting from `environ` (unset or empty: the default), checked; SettingsError
    for the first bad value."""
    return Settings(**{s.attr: s.parse(environ.get(s.env, "")) for s in SETTINGS})


def from_environ() -> Settings:
    """Every setting from this process's environment, checked."""
    return read_settings(os.environ)


def scrapy_values(settings: Settings) -> dict[str, Any]:
    """The Scrapy settings that `settings` gives values to, by their Scrapy names."""
    return {s.scrapy: getattr(settings, s.attr) for s in SETTINGS if s.scrapy}


def markdown_reference() -> str:
    """The configuration reference: a Markdown table of every setting."""
    lines = [
        "| Variable | Type | Default | Description |",
        "| --- | --- | --- | --- |",
    ]
    for s in SETTINGS:
        kind = s.kind.name + (f" ({s.bounds()})" if s.bounds() else "")
        default = f"`{s.show(s.default)}`" if s.default is not None else "unset"
        doc = s.doc + (f" Scrapy setting: `{s.scrapy}`." if s.scrapy not in (None, s.env) else "")
        doc = doc.replace("|", "\\|")
        lines.append(f"| `{s.env}` | {kind} | {default} | {doc} |")
    return "\n".join(lines) + "\n"
