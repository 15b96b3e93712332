"""The settings module: every setting declared once, read and checked once, documented."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from archive.core.settings import (
    BOOL,
    DEFAULTS,
    DURATION,
    FLOAT,
    INT,
    LEVEL,
    NETWORKS,
    REDIS_URL,
    SETTING,
    SETTINGS,
    SIZE,
    Settings,
    SettingsError,
    read_settings,
    scrapy_values,
)
from tests.conftest import ROOT, Archive, archive_env

# A variable's name in the source (not a family such as WIREARCHIVE_API_*).
VARIABLE = re.compile(r"WIREARCHIVE_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])")
# Values no setting of the kind takes, whatever its range.
BAD = {
    INT: ["abc", "1.5", "4x"],
    FLOAT: ["abc", "nan", "inf"],
    SIZE: ["abc", "1.5", "10XB", "-1"],
    DURATION: ["abc", "-1", "10 minutes"],
    BOOL: ["maybe", "2"],
    LEVEL: ["loud"],
    NETWORKS: ["proxy.local", "10.0.0.0/33"],
    REDIS_URL: ["http://localhost:6379/0"],
}


def test_every_setting_parses_its_default():
    assert read_settings({}) == DEFAULTS == Settings()
    for setting in SETTINGS:
        if setting.default is not None:
            text = setting.show(setting.default)
            assert setting.parse(text) == setting.default, setting.env
            assert read_settings({setting.env: text}) == DEFAULTS, setting.env
        assert setting.parse("") == setting.default  # empty is unset
        assert setting.env == "WIREARCHIVE_" + setting.attr.upper()
        assert setting.doc.strip() and "\n" not in setting.doc


def test_a_variable_overrides_its_default():
    given = read_settings(
        {
            "WIREARCHIVE_WARC_BYTES": "100MiB",
            "WIREARCHIVE_UPLOAD_INTERVAL": "2m",
            "WIREARCHIVE_EXTRACT_TIMEOUT": "1.5",
            "WIREARCHIVE_WARM_UP": "0",
            "WIREARCHIVE_ALLOW_PRIVATE": "yes",
            "WIREARCHIVE_TRUSTED_PROXIES": " 127.0.0.1 , 10.0.0.0/8 ",
            "WIREARCHIVE_LOG_LEVEL": "debug",
            "WIREARCHIVE_MAX_BYTES": "20MB",
        }
    )
    assert given.warc_bytes == 100 * 1024 * 1024
    assert given.upload_interval == 120.0 and given.extract_timeout == 1.5
    assert given.warm_up is False and given.allow_private == "1"
    assert given.trusted_proxies == "127.0.0.1,10.0.0.0/8"
    assert given.log_level == "DEBUG" and given.max_bytes == 20_000_000
    assert read_settings({"WIREARCHIVE_ALLOW_PRIVATE": "no"}).allow_private is None


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_a_bad_value_is_one_line_naming_the_variable(setting):
    bad = list(BAD.get(setting.kind, []))
    if setting.minimum is not None:
        bad.append(setting.show(setting.minimum - 1))
    if setting.above is not None:
        bad.append(setting.show(setting.above))
    if setting.maximum is not None:
        bad.append(setting.show(setting.maximum + 1))
    for text in bad:
        with pytest.raises(SettingsError) as caught:
            read_settings({setting.env: text})
        message = str(caught.value)
        assert message.startswith(f"{setting.env}: {text!r} is "), message
        assert "(expected " in message and "\n" not in message, message


def test_options_override_the_environment_and_are_checked_alike():
    env = read_settings({"WIREARCHIVE_DB": "env.db", "WIREARCHIVE_REDIS": "redis://h:1/0"})
    assert env.with_options(db=None, redis=None) == env
    given = env.with_options(db="option.db")
    assert given.db == "option.db" and given.redis == "redis://h:1/0"
    with pytest.raises(SettingsError, match=r"^--redis: 'http://h' is not a Redis URL"):
        env.with_options(redis="http://h")


def test_scrapy_gets_the_values_under_its_names():
    values = scrapy_values(read_settings({"WIREARCHIVE_DOWNLOAD_TIMEOUT": "5"}))
    assert values["DOWNLOAD_TIMEOUT"] == 5.0 and values["WIREARCHIVE_DB"] == DEFAULTS.db
    assert values["WIRE_AGENCIES"] is None and values["MEMUSAGE_LIMIT_MB"] == 2048
    assert "WIREARCHIVE_API_TOKEN" not in values and "WIREARCHIVE_SOURCES" not in values


def test_crawlers_settings_take_their_values_from_the_settings_module():
    code = (
        "import crawlers.settings as s; "
        "print(s.WIREARCHIVE_WARC_BYTES, s.DOWNLOAD_TIMEOUT, s.MEMUSAGE_WARNING_MB, s.LOG_LEVEL)"
    )
    env = {
        "PYTHONPATH": str(ROOT),
        "WIREARCHIVE_WARC_BYTES": "1MB",
        "WIREARCHIVE_DOWNLOAD_TIMEOUT": "7",
        "WIREARCHIVE_MEMORY_LIMIT_MB": "100",
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.split() == ["1000000", "7.0", "50", "INFO"], proc.stderr


def test_a_bad_variable_stops_every_command_with_one_line(tmp_path: Path):
    archive = Archive(tmp_path, archive_env(tmp_path, WIREARCHIVE_WARC_BYTES="abc"))
    for command in (["flush"], ["serve", "--port", "1"], ["crawl"], ["add", "http://x/"]):
        proc = archive.run(*command)
        assert proc.returncode == 2, (command, proc.stderr)
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, (command, proc.stderr)
        assert lines[0].startswith("Error: WIREARCHIVE_WARC_BYTES: 'abc' is not a size")
        assert proc.stdout == ""


def test_scrapy_crawl_with_a_bad_variable_says_so_in_one_line():
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "WIREARCHIVE_WARC_BYTES": "abc"}
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "urls", "-a", "urls=http://x/"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("Error: WIREARCHIVE_WARC_BYTES: 'abc' is not a size"), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_every_variable_the_code_names_is_declared():
    declared = {s.env for s in SETTINGS}
    named: dict[str, set[str]] = {}
    for package in ("archive", "crawlers", "pipelines"):
        for path in (ROOT / package).rglob("*"):
            if path.suffix in (".py", ".html", ".toml") and "demo_site" not in path.parts:
                for name in VARIABLE.findall(path.read_text()):
                    named.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert len(named) > 20
    assert {name: where for name, where in named.items() if name not in declared} == {}
    assert SETTING["seed_only"].env in named  # read by crawlers/frontier.py


def test_the_configuration_reference_is_up_to_date():
    proc = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "docs/configuration.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert all(f"`{s.env}`" in text for s in SETTINGS)
