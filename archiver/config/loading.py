"""Loading the config: the TOML file, then ARCHIVER_* variables over it (pydantic-settings
sources), validated by the models; the first problem becomes one ConfigError line naming the file
and key (or the variable) and what is wrong. Near-miss ARCHIVER_* names get a "did you mean"."""

from __future__ import annotations

import copy
import difflib
import functools
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, TomlConfigSettingsSource

from archiver.config.model import ArchiverConfig, Settings, SiteConfig
from archiver.errors import ConfigError

Path_ = tuple[str | int, ...]  # where a value sits: ("sites", 0, "schedule", "cron")
# Names kept short in the README since before this module: they mean the [fetch] keys.
PREFIX = ArchiverConfig.model_config.get("env_prefix") or "ARCHIVER_"
SITE_PREFIX = PREFIX + "SITE_"
ALIASES = {"ARCHIVER_DELAY": ("fetch", "delay"), "ARCHIVER_USER_AGENT": ("fetch", "user_agent")}
NOT_SETTINGS = {"ARCHIVER_CONFIG"}  # names the file, see load_settings


class TomlFile(TomlConfigSettingsSource):
    """The TOML file; a file that cannot be read or parsed is one ConfigError line."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            return tomllib.loads(Path(file_path).read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"{file_path}: not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file_path}: not valid TOML: {exc}") from None


def env_name(section: str, key: str) -> str:
    if section == "archive":
        return f"{PREFIX}{key.upper()}"
    return f"{PREFIX}{section.upper()}_{key.upper()}"


def site_env_prefix(name: str) -> str:
    return SITE_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_"


def _model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (itself or the items of its list), if any."""
    if typing.get_origin(annotation) is list:
        annotation = typing.get_args(annotation)[0]
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) \
        else None


def section_vars() -> dict[str, tuple[str, str]]:
    """ARCHIVER_<KEY> ([archive]) and ARCHIVER_<SECTION>_<KEY>, from the models' fields."""
    out: dict[str, tuple[str, str]] = {}
    for section, info in ArchiverConfig.model_fields.items():
        model = _model(info.annotation)
        if section != "sites" and model is not None:
            out.update({env_name(section, key): (section, key) for key in model.model_fields})
    return out


def site_suffixes() -> list[tuple[str, tuple[str, ...]]]:
    """(_KEY or _TABLE_KEY, path in the site) for every per-site variable, longest first."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for key, info in SiteConfig.model_fields.items():
        table = _model(info.annotation)
        if table is not None:
            out += [(f"_{key.upper()}_{sub.upper()}", (key, sub)) for sub in table.model_fields]
        elif key != "name":
            out.append((f"_{key.upper()}", (key,)))
    return sorted(out, key=lambda item: -len(item[0]))


@functools.cache
def _adapter(model: type[BaseModel], key: str) -> TypeAdapter[Any]:
    info = model.model_fields[key]
    annotation = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(annotation)


def _from_text(var: str, text: str, model: type[BaseModel], key: str) -> Any:
    """An environment variable's text as the field's value (pydantic's lax mode: "3" is 3,
    "false" is False); a list is comma-separated."""
    value: Any = text
    if typing.get_origin(model.model_fields[key].annotation) is list:
        value = [item.strip() for item in text.split(",") if item.strip()]
    try:
        return _adapter(model, key).validate_python(value, strict=False)
    except ValidationError as exc:
        raise ConfigError(f"environment: {var}: {_message(exc.errors()[0], text)}") from None


class Environment(PydanticBaseSettingsSource):
    """ARCHIVER_* variables laid over the file's values. A site's variables are matched to the
    file's [[sites]] by name; ..._URL for a new name adds a site; a schedule kind set here
    replaces the file's other kind. `origins` says which variable set each value."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str],
                 file_data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self.origins: dict[Path_, tuple[str, str] | None] = {}  # None: from the file
        self.data: dict[str, Any] = {}
        env = {k: v for k, v in env.items() if k.startswith(PREFIX) and v != ""}
        known = set(NOT_SETTINGS)
        sections = section_vars()
        for var, (section, key) in [*ALIASES.items(), *sections.items()]:  # full names win
            if var in env:
                model = _model(ArchiverConfig.model_fields[section].annotation)
                assert model is not None
                value = _from_text(var, env[var], model, key)
                self.data.setdefault(section, {})[key] = value
                self.origins[(section, key)] = (var, env[var])
                known.add(var)
        known |= set(ALIASES) | set(sections)
        known |= self._sites(env, file_data.get("sites", []))
        prefixes = tuple(sorted({f"{PREFIX}{s.upper()}_" for s in ArchiverConfig.model_fields}
                                | {SITE_PREFIX}))
        short = sorted(v for v in known if not v.startswith(prefixes))
        for var in sorted(set(env) - known):
            if var.startswith(prefixes):
                raise ConfigError(f"environment: {var}: not a setting archiver knows")
            close = difflib.get_close_matches(var, short, n=1, cutoff=0.85)
            if close:  # ARCHIVER_DATA_DIRR and the like; other ARCHIVER_* are not ours to judge
                raise ConfigError(
                    f"environment: {var}: not a setting archiver knows (did you mean {close[0]}?)"
                )

    def _sites(self, env: dict[str, str], file_sites: Any) -> set[str]:
        site_vars = {k: v for k, v in env.items() if k.startswith(SITE_PREFIX)}
        if not site_vars or not isinstance(file_sites, list):
            return set()
        sites = copy.deepcopy(file_sites)
        by_prefix: dict[str, int] = {}
        for i, entry in enumerate(sites):
            self.origins[("sites", i)] = None
            if isinstance(entry, dict):
                name, url = entry.get("name"), entry.get("url")
                if isinstance(name, str) and name:
                    by_prefix[site_env_prefix(name)] = i
                elif isinstance(url, str):
                    by_prefix[site_env_prefix(urlsplit(url).hostname or "")] = i
        known: set[str] = set()
        schedule_kinds: dict[int, list[str]] = {}
        suffixes = site_suffixes()
        # a site added by the environment is created by its _URL variable, so those come first
        for var, text in sorted(site_vars.items(), key=lambda kv: (not kv[0].endswith("_URL"), kv)):
            for suffix, path in suffixes:
                if not var.endswith(suffix) or len(var) <= len(SITE_PREFIX) + len(suffix):
                    continue
                prefix = var[: -len(suffix) + 1]
                if prefix not in by_prefix:
                    if suffix != "_URL":
                        continue  # a site added by the environment needs its _URL first
                    name = prefix.removeprefix(SITE_PREFIX).rstrip("_").lower()
                    sites.append({"name": name})
                    by_prefix[prefix] = len(sites) - 1
                    self.origins[("sites", len(sites) - 1)] = (var, text)
                i = by_prefix[prefix]
                entry = sites[i]
                if not isinstance(entry, dict):
                    continue
                model: type[BaseModel] = SiteConfig
                for part in path[:-1]:
                    table = _model(model.model_fields[part].annotation)
                    assert table is not None
                    model, entry = table, entry.setdefault(part, {})
                if isinstance(entry, dict):
                    entry[path[-1]] = _from_text(var, text, model, path[-1])
                    self.origins[("sites", i, *path)] = (var, text)
                if path[0] == "schedule":
                    schedule_kinds.setdefault(i, []).append(path[1])
                known.add(var)
                break
        for i, kinds in schedule_kinds.items():
            schedule = sites[i].get("schedule")
            if len(kinds) == 1 and isinstance(schedule, dict):  # replaces the file's other kind
                sites[i]["schedule"] = {kinds[0]: schedule[kinds[0]]}
        self.data["sites"] = sites
        return known

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self.data


# -- one line per error --------------------------------------------------------------------------


def _dotted(loc: Path_) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _number_problem(value: Any) -> str:
    if not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            pass
        else:
            if number.is_integer():  # 2.0 or "1e3": pydantic takes whole numbers in digits only
                return f"must be a whole number written without a point or exponent, got {value!r}"
            return f"must be a whole number, got {value!r}"
    return f"must be a number, got {value!r}"


def _message(err: Any, raw: Any) -> str:
    kind, ctx, loc = err["type"], err.get("ctx") or {}, tuple(err["loc"])
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']:g}, got {raw!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _number_problem(raw)
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {raw!r}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {raw!r}"
    if kind == "string_type":
        return f"must be a string, got {raw!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        if len(loc) == 2 and loc[0] == "sites":
            return f"must be a table ([[sites]]), got {raw!r}"
        return f"must be a table, got {raw!r}"
    if kind == "list_type":
        if loc == ("sites",):
            return "must be an array of tables ([[sites]])"
        return f"must be a list, got {raw!r}"
    return str(err["msg"])


def _model_at(loc: Path_) -> type[BaseModel]:
    model: type[BaseModel] = ArchiverConfig
    for part in loc:
        if isinstance(part, str):
            inner = _model(model.model_fields[part].annotation)
            if inner is not None:
                model = inner
    return model


def _lookup(data: Any, loc: Path_) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


class Where:
    """Names where a value came from: "<file>: <key path>" or "environment: <VARIABLE>"."""

    def __init__(self, file: str, env: Environment, file_data: dict[str, Any]) -> None:
        self.file, self.origins, self.file_data = file, env.origins, file_data

    def origin(self, loc: Path_, message: str = "") -> tuple[str, str] | None:
        """The variable that set the value at loc or its table, None if the file did. A check
        across keys (message names them) blames a variable that set one of those keys."""
        if loc in self.origins:
            return self.origins[loc]
        below = [o for p, o in self.origins.items()
                 if len(p) > len(loc) and p[: len(loc)] == loc and o is not None
                 and str(p[-1]) in message]
        if below:
            return below[0]
        for n in range(len(loc) - 1, 0, -1):
            if loc[:n] in self.origins:
                return self.origins[loc[:n]]
        return None

    def __call__(self, loc: Path_, message: str = "") -> str:
        origin = self.origin(loc, message)
        if origin is not None:
            return f"environment: {origin[0]}"
        return f"{self.file}: {_dotted(loc)}" if loc else self.file

    def raw(self, loc: Path_, default: Any) -> Any:
        origin = self.origins.get(loc)
        if origin is not None:
            return origin[1]
        value = _lookup(self.file_data, loc)
        return default if value is None else value

    def error(self, exc: ValidationError) -> ConfigError:
        err = exc.errors()[0]
        loc: Path_ = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            parent, key = loc[:-1], str(loc[-1])
            names = sorted(_model_at(parent).model_fields)
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(names)})"
            return ConfigError(f"{self(parent)}: unknown key {key!r}{hint}")
        if err["type"] == "missing":
            parent, key = loc[:-1], str(loc[-1])
            about = _model_at(parent).model_fields[key].description or ""
            about = f" ({about})" if about else ""
            return ConfigError(f"{self(parent)}: {key} is missing{about}")
        message = _message(err, self.raw(loc, err["input"]))
        return ConfigError(f"{self(loc, message)}: {message}")


def load_settings(config_path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build the settings from the TOML file (if any) and the environment; raise ConfigError."""
    env = dict(os.environ) if env is None else env
    path = config_path or (Path(env["ARCHIVER_CONFIG"]) if env.get("ARCHIVER_CONFIG") else None)
    sources: list[PydanticBaseSettingsSource] = []
    file_data: dict[str, Any] = {}
    if path is not None:
        if path.is_dir():
            raise ConfigError(f"{path}: is a directory, not a config file")
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        toml = TomlFile(ArchiverConfig, toml_file=path)
        file_data = toml.toml_data
        sources.append(toml)
    environment = Environment(ArchiverConfig, env, file_data)
    where = Where(str(path) if path else "config", environment, file_data)
    try:
        config = ArchiverConfig(_build_sources=((environment, *sources), {}))
    except ValidationError as exc:
        raise where.error(exc) from None
    seen: set[str] = set()
    for i, site in enumerate(config.sites):
        if site.name in seen:
            raise ConfigError(f"{where(('sites', i))}: site name {site.name!r} is used twice")
        seen.add(site.name)
    return Settings.from_config(config, str(path) if path else "defaults")
