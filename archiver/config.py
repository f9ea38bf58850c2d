"""Settings: defaults, then a TOML file, then ARCHIVER_* environment variables; validated."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from archiver.errors import ConfigError
from archiver.fetch import FetchSettings
from archiver.store.db import default_database_url


@dataclass(slots=True)
class Settings:
    """Everything a run needs to know."""

    data_dir: Path = Path("./archive")
    database_url: str = ""
    fetch: FetchSettings = field(default_factory=FetchSettings)
    source: str = "defaults"

    @property
    def db_url(self) -> str:
        return self.database_url or default_database_url(self.data_dir)


def _float(name: str, value: object, where: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name} must be a number, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{where}: {name} must not be negative, got {value!r}")
    return number


def load_settings(config_path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build the settings from the TOML file (if any) and the environment."""
    env = dict(os.environ) if env is None else env
    settings = Settings()
    path = config_path or (Path(env["ARCHIVER_CONFIG"]) if env.get("ARCHIVER_CONFIG") else None)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        settings.source = str(path)
        archive = data.get("archive", {})
        if "data_dir" in archive:
            settings.data_dir = Path(archive["data_dir"])
        if "database_url" in archive:
            settings.database_url = str(archive["database_url"])
        fetch = data.get("fetch", {})
        if "delay" in fetch:
            settings.fetch.delay = _float("fetch.delay", fetch["delay"], str(path))
        if "user_agent" in fetch:
            settings.fetch.user_agent = str(fetch["user_agent"])
    if env.get("ARCHIVER_DATA_DIR"):
        settings.data_dir = Path(env["ARCHIVER_DATA_DIR"])
    if env.get("ARCHIVER_DATABASE_URL"):
        settings.database_url = env["ARCHIVER_DATABASE_URL"]
    if env.get("ARCHIVER_DELAY"):
        settings.fetch.delay = _float("ARCHIVER_DELAY", env["ARCHIVER_DELAY"], "environment")
    if env.get("ARCHIVER_USER_AGENT"):
        settings.fetch.user_agent = env["ARCHIVER_USER_AGENT"]
    return settings
