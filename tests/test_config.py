"""Issue 5: the TOML config and ARCHIVER_* variables, validated; bad config is one line, exit 2."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from archiver.adapters import ADAPTERS
from archiver.config import format_duration, load_settings, parse_duration
from archiver.errors import ConfigError
from tests.conftest import ROOT, run_cli_subprocess

EXAMPLE = ROOT / "config" / "archiver.toml"

GOOD = """
[archive]
data_dir = "{data}"

[fetch]
delay = 0.5
contact = "mailto:ops@example.org"

[scheduler]
workers = 3

[refresh]
min_interval = "10m"
max_interval = "12h"
max_age = "14d"

[[sites]]
name = "harbour"
url = "https://harbour.example.org/"
platform = "typepad"

[sites.discovery]
feed = "https://harbour.example.org/atom.xml"
since = 2024-01-31
max_threads = 20

[sites.schedule]
cron = "*/20 * * * *"

[sites.politeness]
delay = 4

[sites.refresh]
max_age = "7d"

[[sites]]
name = "second"
url = "https://second.example.org/"

[sites.discovery]
index = ["https://second.example.org/", "https://second.example.org/archives.html"]
"""


def write(tmp_path: Path, text: str, name: str = "archiver.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path | None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env or {})
    return str(info.value)


def test_documented_example_loads() -> None:
    settings = load_settings(EXAMPLE, {})
    assert settings.source == str(EXAMPLE)
    (site,) = settings.sites
    assert site.name == "moa" and site.platform == "typepad"
    assert site.discovery.feed == "https://www.moonofalabama.org/atom.xml"
    assert site.schedule.interval == 1800 and site.schedule.cron is None
    assert settings.fetch.host_delays["www.moonofalabama.org"] == 5.0
    assert settings.fetch.user_agent.endswith("(+mailto:archive@example.org)")
    assert settings.refresh.min_interval == 900 and settings.refresh.max_age == 30 * 86400
    assert settings.scheduler.shutdown_grace == 8


def test_full_schema(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(data=tmp_path / "d"))
    s = load_settings(path, {})
    assert s.data_dir == tmp_path / "d"
    assert s.fetch.delay == 0.5 and s.scheduler.workers == 3
    assert s.refresh.min_interval == 600 and s.refresh.max_interval == 12 * 3600
    harbour, second = s.sites
    assert harbour.schedule.cron == "*/20 * * * *" and harbour.schedule.interval is None
    assert harbour.discovery.since == dt.datetime(2024, 1, 31, tzinfo=dt.UTC)
    assert harbour.discovery.max_threads == 20
    assert harbour.refresh.max_age == 7 * 86400 and harbour.refresh.min_interval == 600
    assert s.fetch.host_delays == {"harbour.example.org": 4.0}
    assert second.platform == "auto" and second.schedule.interval == 3600
    assert second.discovery.index[1] == "https://second.example.org/archives.html"
    assert second.refresh.max_age == 14 * 86400  # the global policy
    assert s.refresh_for("https://harbour.example.org/2024/x.html").max_age == 7 * 86400
    assert s.refresh_for("https://elsewhere.example.org/x.html").max_age == 14 * 86400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[fetch]\ndelai = 1\n", "fetch: unknown key 'delai' (did you mean 'delay'?)"),
        ("[nonsense]\na = 1\n", "unknown key 'nonsense'"),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\nschedul = "1h"\n'
            '[sites.discovery]\nfeed = "https://a.example/feed"\n',
            "sites[0]: unknown key 'schedul' (did you mean 'schedule'?)",
        ),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\n'
            '[sites.discovery]\nfeed = "https://a.example/feed"\nfeeds = "x"\n',
            "sites[0].discovery: unknown key 'feeds'",
        ),
        (
            '[[sites]]\nname = "a"\nurl = "htp:/a.example"\n'
            '[sites.discovery]\nfeed = "https://a.example/feed"\n',
            "sites[0].url: not an http(s) URL: 'htp:/a.example'",
        ),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\n'
            '[sites.discovery]\nfeed = "a.example/atom.xml"\n',
            "sites[0].discovery.feed: not an http(s) URL",
        ),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\n'
            '[sites.discovery]\nfeed = "https://a.example/feed"\n'
            '[sites.schedule]\ncron = "61 * * * *"\n',
            "sites[0].schedule.cron: bad cron expression '61 * * * *'",
        ),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\n'
            '[sites.discovery]\nfeed = "https://a.example/feed"\n'
            '[sites.schedule]\ncron = "* * *"\n',
            "sites[0].schedule.cron: bad cron expression '* * *'",
        ),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\n'
            '[sites.discovery]\nfeed = "https://a.example/feed"\n'
            '[sites.schedule]\ncron = "0 * * * *"\ninterval = "1h"\n',
            "either schedule.interval or schedule.cron, not both",
        ),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\n',
            "sites[0]: discovery needs a feed URL, index pages or backfill pages",
        ),
        ('[[sites]]\nname = "a"\n[sites.discovery]\nfeed = "https://a/f"\n',
         "sites[0]: url is missing"),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\nplatform = "drupal"\n'
            '[sites.discovery]\nfeed = "https://a.example/feed"\n',
            "sites[0].platform: unknown platform 'drupal' (known: auto, "
            + ", ".join(adapter.PLATFORM for adapter in ADAPTERS) + ")",  # every adapter
        ),
        ('[refresh]\nmin_interval = "15 minutes"\n', "refresh.min_interval: must be a duration"),
        ('[refresh]\nmin_interval = "2h"\nmax_interval = "1h"\n',
         "max_interval (1h) is shorter than min_interval (2h)"),
        ("[scheduler]\nworkers = 0\n", "scheduler.workers: must be at least 1, got 0"),
        ('[scheduler]\nworkers = "two"\n', "scheduler.workers: must be a number, got 'two'"),
        ('[scheduler]\ntimezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ("[fetch]\ndelay = -1\n", "fetch.delay: must be at least 0, got -1"),
        ('[fetch]\nrespect_robots = "no"\n', "fetch.respect_robots: must be true or false"),
        ("sites = 3\n", "sites: must be an array of tables"),
        ("[fetch\n", "not valid TOML"),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\n'
            '[sites.discovery]\nfeed = "https://a.example/feed"\n'
            '[[sites]]\nname = "a"\nurl = "https://b.example/"\n'
            '[sites.discovery]\nfeed = "https://b.example/feed"\n',
            "site name 'a' is used twice",
        ),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\n'
            '[sites.discovery]\nindex = ["https://a.example/"]\nlink_pattern = "(["\n',
            "sites[0].discovery.link_pattern: bad regular expression",
        ),
        (
            '[[sites]]\nname = "a"\nurl = "https://a.example/"\n'
            '[sites.discovery]\nindex = ["https://a.example/"]\nlink_selector = "h3 >> a[["\n',
            "sites[0].discovery.link_selector: bad CSS selector 'h3 >> a[['",
        ),
    ],
)
def test_file_errors_name_file_key_and_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    message = error_of(path)
    assert message.startswith(f"{path}:"), message
    assert expected in message, message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.toml") == f"{tmp_path / 'nope.toml'}: config file not found"
    assert "config file not found" in error_of(None, {"ARCHIVER_CONFIG": str(tmp_path / "x")})


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(data=tmp_path / "d"))
    env = {
        "ARCHIVER_DATA_DIR": str(tmp_path / "env-data"),
        "ARCHIVER_FETCH_DELAY": "3",
        "ARCHIVER_FETCH_RESPECT_ROBOTS": "false",
        "ARCHIVER_SCHEDULER_WORKERS": "5",
        "ARCHIVER_REFRESH_MAX_AGE": "60d",
        "ARCHIVER_SITE_HARBOUR_SCHEDULE_CRON": "0 */2 * * *",
        "ARCHIVER_SITE_HARBOUR_DISCOVERY_MAX_THREADS": "7",
        "ARCHIVER_SITE_SECOND_ENABLED": "no",
        "ARCHIVER_SITE_SECOND_DISCOVERY_INDEX": "https://second.example.org/a, https://second.example.org/b",
        "ARCHIVER_SITE_THIRD_ONE_URL": "https://third.example.org/",
        "ARCHIVER_SITE_THIRD_ONE_DISCOVERY_FEED": "https://third.example.org/index.rdf",
        "ARCHIVER_SITE_THIRD_ONE_SCHEDULE_INTERVAL": "45m",
        "ARCHIVER_SITE_THIRD_ONE_POLITENESS_DELAY": "9",
        "ARCHIVER_CONFIG": "/ignored/because/-c/wins.toml",
        "ARCHIVER_TEST_SOMETHING": "not a setting prefix: ignored",
    }
    s = load_settings(path, env)
    assert s.data_dir == tmp_path / "env-data"
    assert s.fetch.delay == 3 and s.fetch.respect_robots is False
    assert s.scheduler.workers == 5
    assert s.refresh.max_age == 60 * 86400
    harbour, second, third = s.sites
    assert harbour.schedule.cron == "0 */2 * * *" and harbour.discovery.max_threads == 7
    assert harbour.refresh.max_age == 7 * 86400  # the site's own override still wins
    assert second.enabled is False
    assert second.discovery.index == ["https://second.example.org/a", "https://second.example.org/b"]
    assert third.name == "third_one" and third.url == "https://third.example.org/"
    assert third.discovery.feed == "https://third.example.org/index.rdf"
    assert third.schedule.interval == 45 * 60
    assert s.fetch.host_delays["third.example.org"] == 9
    assert third.refresh.max_age == 60 * 86400


def test_environment_only_and_short_names(tmp_path: Path) -> None:
    s = load_settings(None, {"ARCHIVER_DELAY": "0", "ARCHIVER_USER_AGENT": "me (+x@y.z)",
                             "ARCHIVER_DATABASE_URL": "sqlite:////tmp/x.db"})
    assert s.fetch.delay == 0 and s.fetch.user_agent == "me (+x@y.z)"
    assert s.db_url == "sqlite:////tmp/x.db" and s.sites == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ARCHIVER_FETCH_DELAY": "slow"}, "environment: ARCHIVER_FETCH_DELAY: must be a number"),
        ({"ARCHIVER_DELAY": "-2"}, "environment: ARCHIVER_DELAY: must be at least 0"),
        ({"ARCHIVER_REFRESH_MAX_AGE": "forever"}, "ARCHIVER_REFRESH_MAX_AGE: must be a duration"),
        ({"ARCHIVER_FETCH_DELAYS": "1"}, "ARCHIVER_FETCH_DELAYS: not a setting archiver knows"),
        ({"ARCHIVER_SCHEDULER_WORKERS": "1.5"}, "must be a whole number"),
        ({"ARCHIVER_SITE_X_URL": "https://x.example/", "ARCHIVER_SITE_X_SCHEDULE_CRON": "bad",
          "ARCHIVER_SITE_X_DISCOVERY_FEED": "https://x.example/atom.xml"},
         "environment: ARCHIVER_SITE_X_SCHEDULE_CRON: bad cron expression 'bad'"),
        ({"ARCHIVER_SITE_X_URL": "nope"}, "environment: ARCHIVER_SITE_X_URL: not an http(s) URL"),
        ({"ARCHIVER_SITE_X_URL": "https://x.example/"},
         "environment: ARCHIVER_SITE_X_URL: discovery needs a feed URL"),
        ({"ARCHIVER_SITE_NOBODY_DISCOVERY_FEED": "https://x.example/f"},
         "ARCHIVER_SITE_NOBODY_DISCOVERY_FEED: not a setting archiver knows"),
    ],
)
def test_environment_errors_name_the_variable(env: dict[str, str], expected: str) -> None:
    assert expected in error_of(None, env)


def test_durations() -> None:
    assert parse_duration(90) == 90 and parse_duration("90") == 90
    assert parse_duration("15m") == 900 and parse_duration("1h30m") == 5400
    assert parse_duration("1d") == 86400 and parse_duration("2w") == 14 * 86400
    for bad in ("", "m15", "15 minutes", "1h x", True):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert format_duration(900) == "15m" and format_duration(86400) == "1d"


BAD_CONFIGS = {
    "unknown-key": ('[scheduler]\nworkers = 2\nwokers = 3\n',
                    "scheduler: unknown key 'wokers' (did you mean 'workers'?)"),
    "bad-url": ('[[sites]]\nname = "a"\nurl = "https//a.example/"\n'
                '[sites.discovery]\nfeed = "https://a.example/atom.xml"\n',
                "sites[0].url: not an http(s) URL: 'https//a.example/'"),
    "bad-cron": ('[[sites]]\nname = "a"\nurl = "https://a.example/"\n'
                 '[sites.discovery]\nfeed = "https://a.example/atom.xml"\n'
                 '[sites.schedule]\ncron = "*/15 * * *"\n',
                 "sites[0].schedule.cron: bad cron expression '*/15 * * *': "
                 "Wrong number of fields; got 4, expected 5"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
@pytest.mark.parametrize("once", [False, True])
def test_bad_config_exits_2_with_one_line_and_starts_nothing(
    tmp_path: Path, case: str, once: bool
) -> None:
    """Item 5: unknown key, bad URL, bad cron: one clear line, exit 2, nothing started."""
    text, expected = BAD_CONFIGS[case]
    path = write(tmp_path, text)
    data = tmp_path / "data"
    args = ["-c", str(path), "run", *(["--once"] if once else [])]
    result = run_cli_subprocess(*args, env={"ARCHIVER_DATA_DIR": str(data)})
    assert result.code == 2, result
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert lines == [f"error: {path}: {expected}"], result.err
    assert result.out == ""
    assert not data.exists()  # no database, no heartbeat: nothing started


def test_bad_environment_exits_2_for_every_command(tmp_path: Path) -> None:
    for args in (["run", "--once"], ["status"], ["health"]):
        result = run_cli_subprocess(
            *args, env={"ARCHIVER_DATA_DIR": str(tmp_path / "d"), "ARCHIVER_REFRESH_FACTOR": "x"}
        )
        assert result.code == 2
        assert result.err.strip() == (
            "error: environment: ARCHIVER_REFRESH_FACTOR: must be a number, got 'x'"
        )


def test_environment_cron_replaces_the_files_interval_and_the_reverse(tmp_path: Path) -> None:
    shipped = ROOT / "config" / "archiver.toml"
    s = load_settings(shipped, {"ARCHIVER_SITE_MOA_SCHEDULE_CRON": "*/20 * * * *"})
    (moa,) = [site for site in s.sites if site.name == "moa"]
    assert moa.schedule.cron == "*/20 * * * *" and moa.schedule.interval is None
    with_cron = shipped.read_text(encoding="utf-8").replace(
        'interval = "30m"', 'cron = "0 * * * *"')
    assert with_cron != shipped.read_text(encoding="utf-8")
    path = tmp_path / "cron.toml"
    path.write_text(with_cron, encoding="utf-8")
    s = load_settings(path, {"ARCHIVER_SITE_MOA_SCHEDULE_INTERVAL": "2h"})
    (moa,) = [site for site in s.sites if site.name == "moa"]
    assert moa.schedule.interval == 7200 and moa.schedule.cron is None
    with pytest.raises(ConfigError, match="either schedule.interval or schedule.cron"):
        load_settings(shipped, {"ARCHIVER_SITE_MOA_SCHEDULE_CRON": "*/20 * * * *",
                                "ARCHIVER_SITE_MOA_SCHEDULE_INTERVAL": "2h"})


@pytest.mark.parametrize(
    ("var", "value", "says"),
    [
        ("ARCHIVER_DATA_DIRR", "/x", "did you mean ARCHIVER_DATA_DIR?"),
        ("ARCHIVER_FETCH_CONNECT_TIMEOUT", "0", "must be at least 0.001"),
        ("ARCHIVER_FETCH_MAX_ATTEMPTS", "0", "must be at least 1"),
        ("ARCHIVER_FETCH_PER_HOST_CONCURRENCY", "0", "must be at least 1"),
    ],
)
def test_settings_that_cannot_work_are_refused(var: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_settings(None, {var: value})


def test_other_archiver_variables_are_not_ours_to_judge() -> None:
    """Variables the tests and benchmarks read are neither refused nor taken as settings: the
    settings are the defaults, exactly as with no variable at all."""
    others = {"ARCHIVER_SKIP_POSTGRES": "1", "ARCHIVER_BENCH_POSTGRES": "postgresql://x/y"}
    settings = load_settings(None, others)
    assert settings == load_settings(None, {})
    assert settings.source == "defaults" and settings.sites == []
    assert settings.database_url == "" and settings.data_dir == Path("archive")
    assert settings.fetch.delay == 1.0 and settings.fetch.max_attempts == 5
    # beside a setting of ours, only that setting moves
    mixed = load_settings(None, {**others, "ARCHIVER_DELAY": "3"})
    assert mixed.fetch.delay == 3.0
    assert dataclasses.replace(mixed.fetch, delay=1.0) == settings.fetch
    assert (mixed.database_url, mixed.scheduler, mixed.refresh) == (
        settings.database_url, settings.scheduler, settings.refresh)
