"""Settings: defaults, then a TOML file, then ARCHIVER_* environment variables; all validated.

Every error names where the bad value came from (the file and the key, or the variable) and what
is wrong with it; unknown keys are errors. See config/archiver.toml for the documented schema.

Environment variables (they override the file):
  [archive] keys     ARCHIVER_<KEY>                      e.g. ARCHIVER_DATA_DIR
  other sections     ARCHIVER_<SECTION>_<KEY>            e.g. ARCHIVER_REFRESH_MAX_AGE
  a site's keys      ARCHIVER_SITE_<NAME>_<KEY>          e.g. ARCHIVER_SITE_MOA_URL
  a site's tables    ARCHIVER_SITE_<NAME>_<TABLE>_<KEY>  e.g. ARCHIVER_SITE_MOA_DISCOVERY_FEED
<NAME> is the site's name upper-cased with every other character than A-Z/0-9 turned to "_".
Setting ARCHIVER_SITE_<NAME>_URL for a name the file does not have adds that site. Lists are
comma-separated, durations are "90", "90s", "15m", "2h", "1d" or "1w", booleans true/false.
ARCHIVER_DELAY and ARCHIVER_USER_AGENT are kept as short names of ARCHIVER_FETCH_DELAY and
ARCHIVER_FETCH_USER_AGENT; ARCHIVER_CONFIG names the TOML file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver import __version__
from archiver.errors import ConfigError
from archiver.fetch import FetchSettings
from archiver.fetch.guard import parse_networks
from archiver.store.db import default_database_url

UTC = dt.UTC


# -- the settings ------------------------------------------------------------------------------


@dataclass(slots=True)
class RefreshPolicy:
    """How often an open thread is polled again: min_interval after a change, multiplied by
    factor each quiet poll up to max_interval; never again once closed or max_age old."""

    min_interval: float = 15 * 60.0
    max_interval: float = 24 * 3600.0
    factor: float = 2.0
    max_age: float = 30 * 86400.0  # counted from the post's date (else its first sighting)


@dataclass(slots=True)
class ScheduleConfig:
    """When a site's discovery runs: every `interval` seconds, or on a cron expression."""

    interval: float | None = 3600.0
    cron: str | None = None

    def describe(self) -> str:
        return f"cron {self.cron!r}" if self.cron else f"every {format_duration(self.interval)}"


@dataclass(slots=True)
class DiscoveryConfig:
    """How a site's new threads are found."""

    feed: str | None = None  # Atom / RSS / RDF
    index: list[str] = field(default_factory=list)  # pages listing posts, read every run
    backfill: list[str] = field(default_factory=list)  # archive pages, walked once (first run)
    max_pages: int = 10  # index/archive pages walked per run, following "next"/"older" links
    max_threads: int | None = None  # at most this many new threads queued per run
    since: dt.datetime | None = None  # skip posts published before this
    link_pattern: str | None = None  # regex a post URL must match (index pages)
    link_selector: str | None = None  # CSS selector of post links (index pages)
    next_selector: str | None = None  # CSS selector of the "older posts" link (index pages)


@dataclass(slots=True)
class SiteConfig:
    """One watched site."""

    name: str
    url: str
    platform: str = "auto"
    enabled: bool = True
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    delay: float | None = None  # politeness override: seconds between requests to its hosts
    refresh: RefreshPolicy = field(default_factory=RefreshPolicy)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.lower()

    def hosts(self) -> set[str]:
        urls = [self.url, *self.discovery.index, *self.discovery.backfill]
        if self.discovery.feed:
            urls.append(self.discovery.feed)
        return {urlsplit(u).netloc.lower() for u in urls}


@dataclass(slots=True)
class SchedulerSettings:
    """How `archiver run` works: concurrency, polling, heartbeat, shutdown."""

    workers: int = 2  # threads archived at the same time (politeness still applies per host)
    poll_interval: float = 60.0  # how often the database is asked for due threads
    heartbeat_interval: float = 30.0
    health_max_age: float = 300.0  # `archiver health` fails when the heartbeat is older
    shutdown_grace: float = 8.0  # on SIGTERM, wait this long for pages in hand, then exit
    timezone: str = "UTC"  # for cron expressions
    max_attempts: int = 8  # a new URL that keeps failing is given up after this many tries


@dataclass(slots=True)
class Settings:
    """Everything a run needs to know."""

    data_dir: Path = Path("./archive")
    database_url: str = ""
    fetch: FetchSettings = field(default_factory=FetchSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    refresh: RefreshPolicy = field(default_factory=RefreshPolicy)
    sites: list[SiteConfig] = field(default_factory=list)
    source: str = "defaults"

    @property
    def db_url(self) -> str:
        return self.database_url or default_database_url(self.data_dir)

    def site_named(self, name: str) -> SiteConfig | None:
        return next((s for s in self.sites if s.name == name), None)

    def site_for_url(self, url: str) -> SiteConfig | None:
        """The configured site whose start URL has the same host as url."""
        host = urlsplit(url).netloc.lower()
        return next((s for s in self.sites if s.host == host), None)

    def refresh_for(self, url: str) -> RefreshPolicy:
        site = self.site_for_url(url)
        return site.refresh if site is not None else self.refresh


# -- value parsing -----------------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(value: object) -> float:
    """Seconds from 90, 90.5, "90", "90s", "15m", "1h30m", "1d", "2w"; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a duration, not a boolean")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos or text[pos:match.start()].strip():
            break
        total += float(match[1]) * _UNITS[match[2]]
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise ValueError('a duration like 90, "90s", "15m", "2h", "1d" or "1w"')
    return total


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def check_url(value: object) -> str:
    """The value as an absolute http(s) URL with a host, or ValueError saying why not."""
    text = str(value).strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {text!r} ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise ValueError(f"not an http(s) URL: {text!r}")
    return text


def check_css_selector(selector: str) -> str:
    """The selector if lexbor can run it, else ValueError saying so."""
    from selectolax.lexbor import LexborHTMLParser

    try:
        LexborHTMLParser("<p></p>").css_first(selector)
    except Exception as exc:  # selectolax raises its own error type for a bad selector
        raise ValueError(f"bad CSS selector {selector!r}: {exc}") from None
    return selector


def check_cron(expression: str, timezone: str = "UTC") -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=timezone)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad cron expression {expression!r}: {exc}") from None
    return expression


def parse_since(value: object, now: dt.datetime | None = None) -> dt.datetime:
    """A date, a datetime (UTC unless it says), or a duration meaning "that long ago"."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        ago = parse_duration(text)
    except ValueError:
        raise ValueError(
            f'a date ("2024-01-31"), a datetime or a duration ago ("90d"), got {text!r}'
        ) from None
    return (now or dt.datetime.now(UTC)) - dt.timedelta(seconds=ago)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class _Src:
    """A raw value with where it came from (for error messages)."""

    __slots__ = ("value", "where", "env")

    def __init__(self, value: Any, where: str, env: bool) -> None:
        self.value, self.where, self.env = value, where, env

    def fail(self, what: str) -> ConfigError:
        return ConfigError(f"{self.where}: {what}")


def _as(kind: str, src: _Src, *, minimum: float | None = None) -> Any:
    """Coerce src to kind (str|int|float|bool|duration|url|urls|list|cron|date|regex)."""
    value = src.value
    try:
        if kind == "str":
            if not isinstance(value, str):
                raise ValueError(f"must be a string, got {value!r}")
            result: Any = value
        elif kind == "bool":
            if isinstance(value, bool):
                result = value
            elif src.env and str(value).strip().lower() in _TRUE | _FALSE:
                result = str(value).strip().lower() in _TRUE
            else:
                raise ValueError(f"must be true or false, got {value!r}")
        elif kind in ("int", "float"):
            if isinstance(value, bool) or (not src.env and not isinstance(value, int | float)):
                raise ValueError(f"must be a number, got {value!r}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"must be a number, got {value!r}") from None
            if kind == "int":
                if number != int(number):
                    raise ValueError(f"must be a whole number, got {value!r}")
                number = int(number)
            result = number
        elif kind == "duration":
            result = parse_duration(value)
        elif kind == "url":
            result = check_url(value)
        elif kind in ("urls", "list"):
            if src.env and isinstance(value, str):
                items = [v.strip() for v in value.split(",") if v.strip()]
            elif isinstance(value, list):
                items = value
            elif isinstance(value, str):
                items = [value]
            else:
                raise ValueError(f"must be a list, got {value!r}")
            result = [check_url(v) if kind == "urls" else str(v) for v in items]
        elif kind == "cron":
            result = str(value).strip()
        elif kind == "date":
            result = parse_since(value)
        elif kind == "regex":
            try:
                re.compile(str(value))
            except re.error as exc:
                raise ValueError(f"bad regular expression {value!r}: {exc}") from None
            result = str(value)
        elif kind == "css":
            result = check_css_selector(str(value))
        else:  # pragma: no cover - a programming error
            raise AssertionError(kind)
    except ValueError as exc:
        message = str(exc)
        if kind == "duration":
            message = f"must be {message}, got {value!r}"
        raise src.fail(message) from None
    if minimum is not None and result < minimum:
        raise src.fail(f"must be at least {minimum:g}, got {value!r}")
    return result


# -- the schema --------------------------------------------------------------------------------

# key -> (kind, minimum)
ARCHIVE_KEYS: dict[str, tuple[str, float | None]] = {
    "data_dir": ("str", None),
    "database_url": ("str", None),
}
SCHEDULER_KEYS: dict[str, tuple[str, float | None]] = {
    "workers": ("int", 1),
    "poll_interval": ("duration", 1),
    "heartbeat_interval": ("duration", 1),
    "health_max_age": ("duration", 1),
    "shutdown_grace": ("duration", 0),
    "timezone": ("str", None),
    "max_attempts": ("int", 1),
}
REFRESH_KEYS: dict[str, tuple[str, float | None]] = {
    "min_interval": ("duration", 1),
    "max_interval": ("duration", 1),
    "factor": ("float", 1),
    "max_age": ("duration", 0),
}
DISCOVERY_KEYS: dict[str, tuple[str, float | None]] = {
    "feed": ("url", None),
    "index": ("urls", None),
    "backfill": ("urls", None),
    "max_pages": ("int", 1),
    "max_threads": ("int", 1),
    "since": ("date", None),
    "link_pattern": ("regex", None),
    "link_selector": ("css", None),
    "next_selector": ("str", None),
}
SCHEDULE_KEYS: dict[str, tuple[str, float | None]] = {
    "interval": ("duration", 1),
    "cron": ("cron", None),
}
POLITENESS_KEYS: dict[str, tuple[str, float | None]] = {"delay": ("float", 0)}
SITE_KEYS: dict[str, tuple[str, float | None]] = {
    "name": ("str", None),
    "url": ("url", None),
    "platform": ("str", None),
    "enabled": ("bool", None),
}
SITE_TABLES: dict[str, dict[str, tuple[str, float | None]]] = {
    "discovery": DISCOVERY_KEYS,
    "schedule": SCHEDULE_KEYS,
    "politeness": POLITENESS_KEYS,
    "refresh": REFRESH_KEYS,
}
_FETCH_SKIP = {"host_delays", "clock", "sleep"}
_FETCH_KINDS = {"str": "str", "float": "float", "int": "int", "bool": "bool"}


def fetch_keys() -> dict[str, tuple[str, float | None]]:
    """Every plain FetchSettings field (they are all settable), plus `contact`."""
    keys: dict[str, tuple[str, float | None]] = {"contact": ("str", None)}
    for f in dataclasses.fields(FetchSettings):
        kind = _FETCH_KINDS.get(str(f.type))
        if f.name not in _FETCH_SKIP and kind is not None:
            keys[f.name] = (
                kind, None if kind in ("str", "bool") else _FETCH_MINIMUMS.get(f.name, 0)
            )
    return keys


# where 0 cannot work: no attempt, no connection, no time to answer
_FETCH_MINIMUMS: dict[str, float] = {
    "max_attempts": 1, "max_concurrency": 1, "per_host_concurrency": 1, "max_body": 1,
    "max_decoded_body": 1, "max_ratio": 1, "slowdown_factor": 1,
    "connect_timeout": 0.001, "read_timeout": 0.001, "total_timeout": 0.001,
    "url_budget": 0.001,
}


def _sections() -> dict[str, dict[str, tuple[str, float | None]]]:
    return {
        "archive": ARCHIVE_KEYS,
        "fetch": fetch_keys(),
        "scheduler": SCHEDULER_KEYS,
        "refresh": REFRESH_KEYS,
    }


def env_name(section: str, key: str) -> str:
    if section == "archive":
        return f"ARCHIVER_{key.upper()}"
    return f"ARCHIVER_{section.upper()}_{key.upper()}"


def site_env_prefix(name: str) -> str:
    return "ARCHIVER_SITE_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_"


_ALIASES = {"ARCHIVER_DELAY": ("fetch", "delay"), "ARCHIVER_USER_AGENT": ("fetch", "user_agent")}
_NOT_SETTINGS = {"ARCHIVER_CONFIG"}
_SETTING_PREFIXES = ("ARCHIVER_FETCH_", "ARCHIVER_SCHEDULER_", "ARCHIVER_REFRESH_",
                     "ARCHIVER_SITE_", "ARCHIVER_ARCHIVE_")


def _unknown(where: str, key: str, known: dict[str, Any] | list[str]) -> ConfigError:
    names = sorted(known)
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(names)})"
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _wrap_table(
    table: object, schema: dict[str, tuple[str, float | None]], file: str, path: str
) -> dict[str, _Src]:
    if not isinstance(table, dict):
        raise ConfigError(f"{file}: {path}: must be a table, got {table!r}")
    out: dict[str, _Src] = {}
    for key, value in table.items():
        if key not in schema:
            raise _unknown(f"{file}: {path}", key, schema)
        out[key] = _Src(value, f"{file}: {path}.{key}", env=False)
    return out


def _site_raw(entry: object, file: str, index: int) -> dict[str, Any]:
    path = f"sites[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{file}: {path}: must be a table ([[sites]]), got {entry!r}")
    raw: dict[str, Any] = {}
    for key, value in entry.items():
        if key in SITE_KEYS:
            raw[key] = _Src(value, f"{file}: {path}.{key}", env=False)
        elif key in SITE_TABLES:
            raw[key] = _wrap_table(value, SITE_TABLES[key], file, f"{path}.{key}")
        else:
            raise _unknown(f"{file}: {path}", key, [*SITE_KEYS, *SITE_TABLES])
    return raw


def _site_env_keys() -> list[tuple[str, str | None, str]]:
    """(suffix, table, key) for every per-site variable, longest suffix first."""
    keys: list[tuple[str, str | None, str]] = [
        (f"_{k.upper()}", None, k) for k in SITE_KEYS if k != "name"
    ]
    for table, schema in SITE_TABLES.items():
        keys += [(f"_{table.upper()}_{k.upper()}", table, k) for k in schema]
    return sorted(keys, key=lambda item: -len(item[0]))


# -- building the settings ---------------------------------------------------------------------


def _build_refresh(raw: dict[str, _Src], base: RefreshPolicy) -> RefreshPolicy:
    policy = dataclasses.replace(base)
    for key, src in raw.items():
        kind, minimum = REFRESH_KEYS[key]
        setattr(policy, key, _as(kind, src, minimum=minimum))
    if policy.max_interval < policy.min_interval:
        where = (raw.get("max_interval") or raw.get("min_interval"))
        assert where is not None
        raise where.fail(
            f"max_interval ({format_duration(policy.max_interval)}) is shorter than "
            f"min_interval ({format_duration(policy.min_interval)})"
        )
    return policy


def _build_site(raw: dict[str, Any], where: str, settings: Settings) -> SiteConfig:
    name_src = raw.get("name")
    name = _as("str", name_src) if name_src is not None else ""
    if "url" not in raw:
        raise ConfigError(f"{where}: url is missing (the site's start URL)")
    url = _as("url", raw["url"])
    if not name:
        name = urlsplit(url).hostname or url
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        assert name_src is not None
        raise name_src.fail(f"must be letters, digits, '_', '.' or '-', got {name!r}")
    site = SiteConfig(name=name, url=url, refresh=dataclasses.replace(settings.refresh))
    if "platform" in raw:
        site.platform = _as("str", raw["platform"]).strip().lower()
        if site.platform != "auto":
            from archiver.adapters import ADAPTERS

            known = [a.PLATFORM for a in ADAPTERS]
            if site.platform not in known:
                raise raw["platform"].fail(
                    f"unknown platform {site.platform!r} (known: auto, {', '.join(known)})"
                )
    if "enabled" in raw:
        site.enabled = _as("bool", raw["enabled"])
    disc = raw.get("discovery", {})
    for key, src in disc.items():
        kind, minimum = DISCOVERY_KEYS[key]
        setattr(site.discovery, key, _as(kind, src, minimum=minimum))
    d = site.discovery
    if not (d.feed or d.index or d.backfill):
        raise ConfigError(
            f"{where}: discovery needs a feed URL, index pages or backfill pages "
            "(how are new threads found?)"
        )
    sched = dict(raw.get("schedule", {}))
    if "interval" in sched and "cron" in sched:
        from_env = [key for key in ("interval", "cron") if sched[key].env]
        if len(from_env) != 1:
            raise sched["cron"].fail("give either schedule.interval or schedule.cron, not both")
        # an ARCHIVER_* variable replaces the file's schedule, whichever kind the file gave
        sched = {from_env[0]: sched[from_env[0]]}
    if "cron" in sched:
        try:
            site.schedule = ScheduleConfig(
                interval=None,
                cron=check_cron(_as("cron", sched["cron"]), settings.scheduler.timezone),
            )
        except ValueError as exc:
            raise sched["cron"].fail(str(exc)) from None
    elif "interval" in sched:
        site.schedule = ScheduleConfig(interval=_as("duration", sched["interval"], minimum=1))
    pol = raw.get("politeness", {})
    if "delay" in pol:
        site.delay = _as("float", pol["delay"], minimum=0)
    site.refresh = _build_refresh(raw.get("refresh", {}), settings.refresh)
    return site


def load_settings(config_path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build the settings from the TOML file (if any) and the environment; raise ConfigError."""
    env = dict(os.environ) if env is None else env
    settings = Settings()
    path = config_path or (Path(env["ARCHIVER_CONFIG"]) if env.get("ARCHIVER_CONFIG") else None)
    data: dict[str, Any] = {}
    file = "config"
    if path is not None:
        file = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except IsADirectoryError:
            raise ConfigError(f"{path}: is a directory, not a config file") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        settings.source = file

    sections = _sections()
    raw: dict[str, dict[str, _Src]] = {name: {} for name in sections}
    site_entries: list[dict[str, Any]] = []
    for key, value in data.items():
        if key in sections:
            raw[key] = _wrap_table(value, sections[key], file, key)
        elif key == "sites":
            if not isinstance(value, list):
                raise ConfigError(f"{file}: sites: must be an array of tables ([[sites]])")
            site_entries = [_site_raw(entry, file, i) for i, entry in enumerate(value)]
        else:
            raise _unknown(file, key, [*sections, "sites"])

    # the environment overrides the file
    for var, (section, key) in _ALIASES.items():
        if env.get(var):
            raw[section][key] = _Src(env[var], f"environment: {var}", env=True)
    known_vars = set(_ALIASES) | _NOT_SETTINGS
    for section, schema in sections.items():
        for key in schema:
            var = env_name(section, key)
            known_vars.add(var)
            if env.get(var, "") != "":
                raw[section][key] = _Src(env[var], f"environment: {var}", env=True)
    site_vars = {k: v for k, v in env.items() if k.startswith("ARCHIVER_SITE_") and v != ""}
    by_prefix: dict[str, int] = {}
    for i, entry in enumerate(site_entries):
        name_src, url_src = entry.get("name"), entry.get("url")
        if name_src is not None and isinstance(name_src.value, str) and name_src.value:
            by_prefix[site_env_prefix(name_src.value)] = i
        elif url_src is not None and isinstance(url_src.value, str):
            by_prefix[site_env_prefix(urlsplit(url_src.value).hostname or "")] = i
    suffixes = _site_env_keys()
    # a site added by the environment is created by its _URL variable, so those come first
    for var, value in sorted(site_vars.items(), key=lambda kv: (not kv[0].endswith("_URL"), kv)):
        for suffix, table, key in suffixes:
            if not var.endswith(suffix) or len(var) <= len("ARCHIVER_SITE_") + len(suffix):
                continue
            prefix = var[: -len(suffix) + 1]
            if prefix not in by_prefix:
                if suffix != "_URL":
                    continue  # a site added by the environment needs its _URL first
                name = prefix.removeprefix("ARCHIVER_SITE_").rstrip("_").lower()
                site_entries.append({"name": _Src(name, f"environment: {var}", env=True)})
                by_prefix[prefix] = len(site_entries) - 1
            entry = site_entries[by_prefix[prefix]]
            src = _Src(value, f"environment: {var}", env=True)
            if table is None:
                entry[key] = src
            else:
                entry.setdefault(table, {})[key] = src
            known_vars.add(var)
            break
    short_vars = [v for v in known_vars if not v.startswith(_SETTING_PREFIXES)]
    for var in env:
        if var in known_vars or env[var] == "" or not var.startswith("ARCHIVER_"):
            continue
        if var.startswith(_SETTING_PREFIXES):
            raise ConfigError(f"environment: {var}: not a setting archiver knows")
        close = difflib.get_close_matches(var, short_vars, n=1, cutoff=0.85)
        if close:  # ARCHIVER_DATA_DIRR and the like; other ARCHIVER_* names are not ours to judge
            raise ConfigError(
                f"environment: {var}: not a setting archiver knows (did you mean {close[0]}?)"
            )

    # build
    arch = raw["archive"]
    if "data_dir" in arch:
        settings.data_dir = Path(_as("str", arch["data_dir"]))
    if "database_url" in arch:
        settings.database_url = _as("str", arch["database_url"]).strip()
    fetch_schema = sections["fetch"]
    contact = None
    for key, src in raw["fetch"].items():
        kind, minimum = fetch_schema[key]
        value = _as(kind, src, minimum=minimum)
        if key == "contact":
            contact = value.strip()
        elif key == "public_networks":
            try:
                parse_networks(value)
            except ValueError as exc:
                raise src.fail(str(exc)) from None
            settings.fetch.public_networks = value
        else:
            setattr(settings.fetch, key, value)
        if key == "user_agent" and not value.strip():
            raise src.fail("must not be empty (say who runs this crawler and how to reach you)")
    if contact and "user_agent" not in raw["fetch"]:
        settings.fetch.user_agent = f"archiver/{__version__} (+{contact})"
    for key, src in raw["scheduler"].items():
        kind, minimum = SCHEDULER_KEYS[key]
        setattr(settings.scheduler, key, _as(kind, src, minimum=minimum))
    if "timezone" in raw["scheduler"]:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(settings.scheduler.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise raw["scheduler"]["timezone"].fail(
                f"unknown time zone {settings.scheduler.timezone!r}"
            ) from None
    settings.refresh = _build_refresh(raw["refresh"], settings.refresh)

    seen: dict[str, str] = {}
    for i, entry in enumerate(site_entries):
        name_src = entry.get("name")
        where = name_src.where.rsplit(".", 1)[0] if name_src is not None and not name_src.env \
            else (name_src.where if name_src is not None else f"{file}: sites[{i}]")
        site = _build_site(entry, where, settings)
        if site.name in seen:
            raise ConfigError(f"{where}: site name {site.name!r} is used twice")
        seen[site.name] = where
        settings.sites.append(site)
        if site.delay is not None and hasattr(settings.fetch, "host_delays"):
            for host in site.hosts():
                settings.fetch.host_delays[host] = site.delay
    return settings
