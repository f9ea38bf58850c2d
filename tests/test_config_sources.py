"""Issue 12: the config schema written once (pydantic-settings). Every ARCHIVER_* example the
README and config/archiver.toml show still works; a check across keys names the variable that
broke it; the file's own mistakes are still blamed on the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archiver.config import load_settings
from archiver.errors import ConfigError
from tests.conftest import ROOT

SHIPPED = ROOT / "config" / "archiver.toml"
EXAMPLE = re.compile(r"`?(ARCHIVER_[A-Z_]+)=(\"[^\"]*\"|[^\s`,)]+)")


def documented_examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for doc in (ROOT / "README.md", SHIPPED):
        for var, value in EXAMPLE.findall(doc.read_text(encoding="utf-8")):
            value = value.strip('"').rstrip(".")  # "...sets ARCHIVER_DATA_DIR=/data."
            if (var, value) not in found and var != "ARCHIVER_CONFIG":
                found.append((var, value))
    return found


def snapshot(path: Path, env: dict[str, str]) -> str:
    s = load_settings(path, env)
    fetch = {k: getattr(s.fetch, k) for k in s.fetch.__slots__ if k not in ("clock", "sleep")}
    return repr((s.data_dir, s.database_url, fetch, s.scheduler, s.refresh, s.sites))


def test_the_documented_examples_are_found() -> None:
    names = {var for var, _ in documented_examples()}
    assert {"ARCHIVER_DATA_DIR", "ARCHIVER_REFRESH_MAX_AGE", "ARCHIVER_FETCH_MAX_ATTEMPTS",
            "ARCHIVER_SITE_MOA_SCHEDULE_CRON", "ARCHIVER_SITE_MOA_ENABLED"} <= names


@pytest.mark.parametrize(("var", "value"), documented_examples())
def test_every_documented_variable_loads_and_takes_effect(var: str, value: str) -> None:
    assert snapshot(SHIPPED, {var: value}) != snapshot(SHIPPED, {})


@pytest.mark.parametrize(
    ("var", "value", "check"),
    [
        ("ARCHIVER_DATABASE_URL", "sqlite:////tmp/x.db", lambda s: s.db_url == "sqlite:////tmp/x.db"),
        ("ARCHIVER_DELAY", "7", lambda s: s.fetch.delay == 7),
        ("ARCHIVER_USER_AGENT", "me (+x@y.z)", lambda s: s.fetch.user_agent == "me (+x@y.z)"),
        ("ARCHIVER_FETCH_URL_BUDGET", "30", lambda s: s.fetch.url_budget == 30),
        ("ARCHIVER_FETCH_PUBLIC_NETWORKS", "127.0.0.2/32, 10.1.0.0/16",
         lambda s: s.fetch.public_networks == "127.0.0.2/32, 10.1.0.0/16"),
        ("ARCHIVER_SCHEDULER_TIMEZONE", "Europe/Paris",
         lambda s: s.scheduler.timezone == "Europe/Paris"),
        ("ARCHIVER_SITE_MOA_DISCOVERY_SINCE", "2024-01-31",
         lambda s: s.sites[0].discovery.since.isoformat() == "2024-01-31T00:00:00+00:00"),
        ("ARCHIVER_SITE_MOA_POLITENESS_DELAY", "9",
         lambda s: s.fetch.host_delays == {"www.moonofalabama.org": 9}),
        ("ARCHIVER_SITE_MOA_REFRESH_FACTOR", "3", lambda s: s.sites[0].refresh.factor == 3
         and s.refresh.factor == 2),
    ],
)
def test_named_variables(var: str, value: str, check: object) -> None:
    assert callable(check) and check(load_settings(SHIPPED, {var: value}))


def error_of(path: Path | None, env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env)
    return str(info.value)


def test_a_check_across_keys_names_the_variable_that_broke_it(tmp_path: Path) -> None:
    assert error_of(SHIPPED, {"ARCHIVER_REFRESH_MIN_INTERVAL": "2d"}) == (
        "environment: ARCHIVER_REFRESH_MIN_INTERVAL: "
        "max_interval (1d) is shorter than min_interval (2d)"
    )
    path = tmp_path / "a.toml"
    path.write_text('[refresh]\nmin_interval = "2h"\nmax_interval = "1h"\n', encoding="utf-8")
    # a variable that set another key of the table is not to blame
    assert error_of(path, {"ARCHIVER_REFRESH_FACTOR": "3"}).startswith(f"{path}: refresh: ")
    assert error_of(SHIPPED, {"ARCHIVER_SITE_MOA_SCHEDULE_CRON": "0 * * * *",
                              "ARCHIVER_SITE_MOA_SCHEDULE_INTERVAL": "2h"}).startswith(
        "environment: ARCHIVER_SITE_MOA_SCHEDULE_")


def test_the_files_mistakes_stay_the_files(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("[nonsense]\na = 1\n", encoding="utf-8")
    assert error_of(path, {"ARCHIVER_DATA_DIR": "/x"}).startswith(f"{path}: unknown key 'nonsense'")
    path.write_text('[[sites]]\nname = "a"\n[sites.discovery]\nfeed = "https://a/f"\n',
                    encoding="utf-8")
    assert error_of(path, {"ARCHIVER_SITE_A_ENABLED": "false"}) == (
        f"{path}: sites[0]: url is missing (the site's start URL)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[sites]]\nurl = "https://a.example/"\n[sites.discovery]\n'
         'index = ["https://a.example/"]\nnext_selector = "a[["\n',
         "sites[0].discovery.next_selector: bad CSS selector 'a[['"),
        ("[fetch]\nmax_attempts = 2.5\n", "fetch.max_attempts: must be a whole number, got 2.5"),
        ("[fetch]\nmax_attempts = 2.0\n",
         "fetch.max_attempts: must be a whole number written without a point"),
        ('[fetch]\nuser_agent = " "\n', "fetch.user_agent: must not be empty"),
        ('[fetch]\npublic_networks = "10.0.0.0/8 nope"\n',
         "fetch.public_networks: 'nope' is not a network"),
        ("fetch = 3\n", "fetch: must be a table, got 3"),
        ("sites = [3]\n", "sites[0]: must be a table ([[sites]]), got 3"),
        ("[archive]\ndata_dir = 3\n", "archive.data_dir: must be a string, got 3"),
    ],
)
def test_file_values_of_the_wrong_kind(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "a.toml"
    path.write_text(text, encoding="utf-8")
    message = error_of(path, {})
    assert message.startswith(f"{path}: {expected}"), message
    assert "\n" not in message


def test_a_site_added_by_the_environment_is_named_by_its_url_variable() -> None:
    env = {"ARCHIVER_SITE_NEW_URL": "https://n.example/",
           "ARCHIVER_SITE_NEW_DISCOVERY_INDEX": "https://n.example/, https://n.example/2",
           "ARCHIVER_SITE_NEW_DISCOVERY_MAX_PAGES": "0"}
    assert error_of(None, env) == (
        "environment: ARCHIVER_SITE_NEW_DISCOVERY_MAX_PAGES: must be at least 1, got '0'"
    )
    env["ARCHIVER_SITE_NEW_DISCOVERY_MAX_PAGES"] = "3"
    (site,) = load_settings(None, env).sites
    assert site.name == "new" and site.discovery.index == ["https://n.example/",
                                                           "https://n.example/2"]
    assert site.discovery.max_pages == 3 and site.schedule.interval == 3600
