"""The config schema, written once as pydantic models ([archive], [fetch], [scheduler], [refresh],
[[sites]]), with the checks across fields; and Settings, the validated result a run uses."""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from archiver import __version__
from archiver.config.types import (
    CssSelector,
    Duration,
    Regex,
    Since,
    Url,
    Urls,
    check_cron,
    format_duration,
)
from archiver.fetch import FetchSettings
from archiver.fetch.guard import parse_networks
from archiver.fetch.oauth import reddit_app
from archiver.fetch.settings import parse_origin_map
from archiver.store.db import default_database_url


class Table(BaseModel):
    """A TOML table: unknown keys are errors, and a value must have the right TOML type (an
    ARCHIVER_* variable's text is converted first, see loading.py)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ArchiveSection(Table):
    data_dir: str = "./archive"
    database_url: str = ""  # any SQLAlchemy URL; empty: SQLite in data_dir
    # `archive URL URL...` / `-i FILE`: threads archived side by side (each host at its own pace)
    workers: int = Field(32, ge=1)


def _fetch_section() -> type[Table]:
    """[fetch]: every plain FetchSettings field with its type and minimum, plus `contact`."""
    hints = typing.get_type_hints(FetchSettings, include_extras=True)
    fields: dict[str, Any] = {"contact": (str | None, None)}
    for f in dataclasses.fields(FetchSettings):
        base = typing.get_args(hints[f.name])[0] if hasattr(hints[f.name], "__metadata__") \
            else hints[f.name]
        if base in (str, int, float, bool):
            fields[f.name] = (hints[f.name], f.default)
    validators = {"_user_agent": field_validator("user_agent")(_user_agent),
                  "_networks": field_validator("public_networks")(_networks),
                  "_origin_map": field_validator("origin_map")(_origin_map)}
    return create_model("FetchSection", __base__=Table, __validators__=validators, **fields)


def _user_agent(cls: type, value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty (say who runs this crawler and how to reach you)")
    return value


def _networks(cls: type, value: str) -> str:
    parse_networks(value)  # ValueError names the bad network
    return value


def _origin_map(cls: type, value: str) -> str:
    parse_origin_map(value)  # ValueError names the bad pair
    return value


FetchSection = _fetch_section()


class SchedulerSettings(Table):
    """How `archiver run` works: concurrency, polling, heartbeat, shutdown."""

    workers: int = Field(2, ge=1)  # threads archived at the same time (politeness: per host)
    poll_interval: Duration = Field(60.0, ge=1)  # how often the database is asked for due threads
    heartbeat_interval: Duration = Field(30.0, ge=1)
    health_max_age: Duration = Field(300.0, ge=1)  # `archiver health` fails when older
    shutdown_grace: Duration = Field(8.0, ge=0)  # on SIGTERM, wait this long, then exit
    timezone: str = "UTC"  # for cron expressions
    max_attempts: int = Field(8, ge=1)  # a new URL that keeps failing is given up after this
    # `archiver worker` (PostgreSQL): how often each worker says it is alive, after how long
    # without a word its job is given to another, how often due work is planned (once in all)
    worker_heartbeat: Duration = Field(10.0, ge=0.1)
    worker_stalled_after: Duration = Field(30.0, ge=1)
    worker_tick: Duration = Field(10.0, ge=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class RefreshPolicy(Table):
    """How often an open thread is polled again: min_interval after a change, multiplied by
    factor each quiet poll up to max_interval; never again once closed or max_age old."""

    min_interval: Duration = Field(15 * 60.0, ge=1)
    max_interval: Duration = Field(24 * 3600.0, ge=1)
    factor: float = Field(2.0, ge=1)
    max_age: Duration = Field(30 * 86400.0, ge=0)  # from the post's date (else first sighting)

    @model_validator(mode="after")
    def _max_not_below_min(self) -> RefreshPolicy:
        if self.max_interval < self.min_interval:
            raise ValueError(
                f"max_interval ({format_duration(self.max_interval)}) is shorter than "
                f"min_interval ({format_duration(self.min_interval)})"
            )
        return self


class PicturesPolicy(Table):
    """The images a post or comment shows, fetched after the thread's pages: whether at all,
    and the limits (bytes). Avatars and tracking pixels are left out unless avatars = true."""

    enabled: bool = True
    max_size: int = Field(20 * 1024 * 1024, ge=1)  # one image's raw bytes
    max_total: int = Field(200 * 1024 * 1024, ge=1)  # all of one thread's images together
    avatars: bool = False  # images in a body that look like avatars (class, host) are fetched


class ServeSettings(Table):
    """`archiver serve`: where it listens, the token any address but loopback requires, which
    private networks the "archive this URL" form may reach, how many comments a page shows."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    token: str = ""  # required to listen on any other address than loopback
    # networks the form may archive from although private ("127.0.0.0/8, 10.1.0.0/16"): by
    # default a URL resolving to a loopback, private or link-local address is refused
    allow_networks: str = ""
    page_size: int = Field(200, ge=1, le=5000)  # comments per page of a thread

    @field_validator("allow_networks")
    @classmethod
    def _allowed(cls, value: str) -> str:
        parse_networks(value)  # ValueError names the bad network
        return value


class ScheduleConfig(Table):
    """When a site's discovery runs: every `interval` seconds, or on a cron expression."""

    interval: Duration | None = Field(3600.0, ge=1)
    cron: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("cron") is not None:
            if "interval" in data:
                raise ValueError("give either schedule.interval or schedule.cron, not both")
            data = {**data, "interval": None}
        return data

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    def describe(self) -> str:
        return f"cron {self.cron!r}" if self.cron else f"every {format_duration(self.interval)}"


class DiscoveryConfig(Table):
    """How a site's new threads are found."""

    feed: Url | None = None  # Atom / RSS / RDF
    index: Urls = []  # pages listing posts, read every run
    backfill: Urls = []  # archive pages, walked once (first run)
    max_pages: int = Field(10, ge=1)  # index/archive pages walked per run ("next"/"older")
    max_threads: int | None = Field(None, ge=1)  # at most this many new threads queued per run
    since: Since | None = None  # skip posts published before this
    link_pattern: Regex | None = None  # regex a post URL must match (index pages)
    link_selector: CssSelector | None = None  # CSS selector of post links (index pages)
    next_selector: CssSelector | None = None  # CSS selector of the "older posts" link


class Politeness(Table):
    delay: float | None = Field(None, ge=0)  # seconds between requests to the site's hosts


class SiteConfig(Table):
    """One watched site."""

    name: str = ""  # default: the URL's host name
    url: Url = Field(description="the site's start URL")
    platform: str = "auto"
    enabled: bool = True
    discovery: DiscoveryConfig = Field(default_factory=DiscoveryConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    politeness: Politeness = Field(default_factory=Politeness)
    # [refresh] with this site's overrides over it
    refresh: RefreshPolicy = Field(default_factory=RefreshPolicy)
    # [pictures] with this site's overrides over it ([sites.pictures] enabled = false)
    pictures: PicturesPolicy = Field(default_factory=PicturesPolicy)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise ValueError(f"must be letters, digits, '_', '.' or '-', got {value!r}")
        return value

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        value = value.strip().lower()
        if value != "auto":
            from archiver.adapters import ADAPTERS

            known = [a.PLATFORM for a in ADAPTERS]
            if value not in known:
                raise ValueError(f"unknown platform {value!r} (known: auto, {', '.join(known)})")
        return value

    @model_validator(mode="after")
    def _complete(self) -> SiteConfig:
        if not self.name:
            self.name = urlsplit(self.url).hostname or self.url
        d = self.discovery
        if not (d.feed or d.index or d.backfill):
            raise ValueError(
                "discovery needs a feed URL, index pages or backfill pages "
                "(how are new threads found?)"
            )
        return self

    @property
    def delay(self) -> float | None:
        """Politeness override: seconds between requests to its hosts."""
        return self.politeness.delay

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.lower()

    def hosts(self) -> set[str]:
        urls = [self.url, *self.discovery.index, *self.discovery.backfill]
        if self.discovery.feed:
            urls.append(self.discovery.feed)
        return {urlsplit(u).netloc.lower() for u in urls}


class RedditSection(Table):
    """[reddit]: the OAuth app whose credentials read Reddit's API (application-only OAuth; a
    'script' app made at https://www.reddit.com/prefs/apps). Never in a capture or an export."""

    client_id: str = ""
    client_secret: str = ""


class ArchiverConfig(BaseSettings):
    """The whole file, after the ARCHIVER_* variables were laid over it (loading.py)."""

    model_config = SettingsConfigDict(extra="forbid", strict=True, env_prefix="ARCHIVER_")

    archive: ArchiveSection = ArchiveSection()
    fetch: FetchSection = FetchSection()  # type: ignore[valid-type]
    scheduler: SchedulerSettings = SchedulerSettings()
    refresh: RefreshPolicy = RefreshPolicy()
    pictures: PicturesPolicy = PicturesPolicy()
    reddit: RedditSection = RedditSection()
    serve: ServeSettings = ServeSettings()
    sites: list[SiteConfig] = []

    @model_validator(mode="before")
    @classmethod
    def _sites_inherit_refresh(cls, data: Any) -> Any:
        """A site's [sites.refresh] overrides [refresh] key by key; [sites.pictures] likewise."""
        if not isinstance(data, dict):
            return data
        for table in ("refresh", "pictures"):
            base, sites = data.get(table, {}), data.get("sites")
            if isinstance(base, dict) and isinstance(sites, list):
                data = {**data, "sites": [
                    {**site, table: {**base, **site.get(table, {})}}
                    if isinstance(site, dict) and isinstance(site.get(table, {}), dict) else site
                    for site in sites
                ]}
        return data


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
    pictures: PicturesPolicy = field(default_factory=PicturesPolicy)
    serve: ServeSettings = field(default_factory=ServeSettings)
    workers: int = 32  # [archive] workers: threads `archive URL URL...` archives side by side

    @classmethod
    def from_config(cls, config: ArchiverConfig, source: str) -> Settings:
        """The run's settings from a validated config; FetchSettings gets its site delays."""
        values = config.fetch.model_dump(exclude={"contact"}, exclude_unset=True)
        fetch = FetchSettings(**values)
        contact = (config.fetch.contact or "").strip()  # type: ignore[attr-defined]
        if contact and "user_agent" not in values:
            fetch.user_agent = f"archiver/{__version__} (+{contact})"
        reddit = config.reddit
        fetch.oauth_apps = (reddit_app(reddit.client_id.strip(), reddit.client_secret.strip()),)
        for site in config.sites:
            if site.delay is not None:
                for host in site.hosts():
                    fetch.host_delays[host] = site.delay
        return cls(
            data_dir=Path(config.archive.data_dir),
            database_url=config.archive.database_url.strip(),
            fetch=fetch, scheduler=config.scheduler, refresh=config.refresh,
            sites=list(config.sites), source=source, pictures=config.pictures,
            serve=config.serve,
            workers=config.archive.workers,
        )

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

    def pictures_for(self, url: str) -> PicturesPolicy:
        """The pictures policy of the thread at url: its site's, else [pictures]."""
        site = self.site_for_url(url)
        return site.pictures if site is not None else self.pictures
