"""The agent's settings: a TOML file, then the environment (SYNCAGENT_*), then explicit overrides."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

API_VERSIONS = ("v1", "v2", "v3")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and what to do."""


@dataclass(frozen=True)
class Config:
    server_url: str = ""
    site_name: str = ""
    password: str = ""
    # Learnt from the primary's `site` call (v2/v3) when left at 0; v1 has no such call and needs it.
    site_id: int = 0
    # The store this installation serves; learnt from the `site` call when empty.
    store: str = ""
    # Sent as msupply-site-uuid; when empty, one is created on first use and kept in the state database.
    hardware_id: str = ""
    api_version: str = "v3"
    interval: float = 30.0
    push_batch: int = 50
    pull_batch: int = 500
    attempts: int = 5
    timeout: float = 30.0
    backoff_base: float = 2.0
    backoff_max: float = 300.0
    state_path: str = "syncagent.sqlite3"
    # 0: off. The status endpoint only ever listens on 127.0.0.1.
    status_port: int = 0
    # "module:function" called with each pulled record; empty: the built-in SQLite mirror.
    callback: str = ""

    def __post_init__(self) -> None:
        problems = []
        if self.api_version not in API_VERSIONS:
            problems.append(f"api_version must be one of {', '.join(API_VERSIONS)}, not '{self.api_version}'")
        for name in ("push_batch", "pull_batch", "attempts"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be 1 or more")
        for name in ("interval", "timeout", "backoff_base", "backoff_max"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be more than 0 seconds")
        if not 0 <= self.status_port <= 65535:
            problems.append("status_port must be a TCP port (0 turns the endpoint off)")
        if problems:
            raise ConfigError("; ".join(problems) + ".")

    def require_server(self) -> None:
        """Calls to the primary need these; local commands (enqueue, status) do not."""
        missing = [name for name in ("server_url", "site_name", "password") if not getattr(self, name)]
        if missing:
            env = ", ".join(ENV_PREFIX + m.upper() for m in missing)
            raise ConfigError(f"Set {', '.join(missing)} in the config file or the environment ({env}).")
        if self.api_version == "v1" and not self.site_id:
            raise ConfigError("v1 has no `site` call to learn the site id from: set site_id.")


ENV_PREFIX = "SYNCAGENT_"
_FIELDS = {f.name: f for f in fields(Config)}


def _typed(name: str, value: Any, source: str) -> Any:
    kind = type(getattr(Config, name))
    try:
        if kind is int and not isinstance(value, bool):
            return int(value)
        if kind is float and not isinstance(value, bool):
            return float(value)
        if kind is str:
            return str(value)
    except (TypeError, ValueError):
        pass
    words = {int: "a whole number", float: "a number of seconds", str: "text"}[kind]
    raise ConfigError(f"{name} from {source} must be {words}, not {value!r}.")


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: dict[str, str] | None = None,
    **overrides: Any,
) -> Config:
    """File values, then SYNCAGENT_<NAME> variables, then `overrides` (None values are ignored)."""
    values: dict[str, Any] = {}
    if path:
        file = Path(path)
        try:
            document = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"The config file {file} does not exist.") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"The config file {file} is not valid TOML: {exc}.") from exc
        section = document.get("syncagent", document)
        unknown = sorted(set(section) - set(_FIELDS))
        if unknown:
            raise ConfigError(f"Unknown setting(s) in {file}: {', '.join(unknown)}.")
        values.update({k: _typed(k, v, str(file)) for k, v in section.items()})
    env = os.environ if environ is None else environ
    for name in _FIELDS:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _typed(name, raw, ENV_PREFIX + name.upper())
    for name, value in overrides.items():
        if name not in _FIELDS:
            raise ConfigError(f"Unknown setting {name}.")
        if value is not None:
            values[name] = _typed(name, value, "the command line")
    values["server_url"] = str(values.get("server_url", "")).rstrip("/")
    return replace(Config(), **values)
