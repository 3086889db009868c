"""Settings: read once at start-up from the data directory's config.toml and CLTD_* variables.

Nothing else in cltd reads the environment. A bad value stops start-up with one line that
names the setting, so a steward can fix it without reading a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SUPPORTED_LOCALES = ("en", "es", "fr")
CONFIG_FILE = "config.toml"
SECRET_KEY_FILE = "secret_key"
SIGNING_KEY_FILE = "keys/trust-ed25519.pem"
SIGNING_PUBLIC_KEY_FILE = "keys/trust-ed25519.pub.pem"
DATABASE_FILE = "cltd.sqlite3"


class ConfigError(ValueError):
    """A setting has a value the trust cannot start with."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"setting {key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str = field(repr=False)
    trust_name: str = "CLTD trust"
    default_locale: str = "en"
    timezone: str = "UTC"
    currency: str = "EUR"  # ISO 4217: licence revenue and equity figures are shown in it
    bylaws_path: Path | None = None
    ratelimit_storage_uri: str = "memory://"
    signin_rate_limit: str = "25 per 5 minutes"
    token_rate_limit: str = "300 per 5 minutes"
    secure_cookies: bool = False
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    log_level: str = "INFO"
    # How many reverse proxies in front add X-Forwarded-For/-Proto (0: none, trust no header).
    proxy_hops: int = 0
    # The trust's public address (https://trust.example.org): OAuth issuer and did:web host.
    base_url: str = ""
    # Where the trust is, in words (its description tells peers): "Leeds, England".
    place: str = ""
    # Peers on 127.0.0.0/8 or ::1 may be contacted: only for tests and trials on one machine.
    allow_loopback_peers: bool = False
    # Seconds a peer has to connect and to answer, and the largest page accepted from it.
    peer_timeout: int = 10
    peer_max_bytes: int = 8 * 1024 * 1024
    # An asset's records moving between trusts come in one answer: they may take longer.
    transfer_timeout: int = 300
    transfer_max_bytes: int = 256 * 1024 * 1024

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / SIGNING_KEY_FILE

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def validated(self) -> Settings:
        if self.default_locale not in SUPPORTED_LOCALES:
            raise ConfigError("default_locale", f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("timezone", f"unknown time zone {self.timezone!r}") from None
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ConfigError("currency", "must be an ISO 4217 code such as EUR, GBP or USD")
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise ConfigError("database_url", "must start with sqlite:// or postgresql://")
        if len(self.secret_key) < 32:
            raise ConfigError("secret_key", "must be at least 32 characters (run cltd init)")
        if self.session_idle_minutes < 1 or self.session_absolute_hours < 1:
            raise ConfigError("session_idle_minutes", "session lifetimes must be positive")
        if self.base_url and not self.base_url.startswith(("https://", "http://")):
            raise ConfigError("base_url", "must be an address like https://trust.example.org")
        if not 0 <= self.proxy_hops <= 5:
            raise ConfigError("proxy_hops", "must be a number of proxies from 0 to 5")
        if not self.trust_name.strip():
            raise ConfigError("trust_name", "must not be empty")
        for name in ("peer_timeout", "peer_max_bytes", "transfer_timeout", "transfer_max_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(name, "must be a positive number")
        return self

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes).validated()


_ENV_PREFIX = "CLTD_"
_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


def _coerce(key: str, value: object) -> object:
    kind = _FIELD_TYPES[key]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(key, f"expected true or false, got {value!r}")
    if kind == "int":
        try:
            return int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise ConfigError(key, f"expected a whole number, got {value!r}") from None
    if kind in ("Path", "Path | None"):
        return Path(str(value)).expanduser()
    if not isinstance(value, str):
        raise ConfigError(key, f"expected text, got {value!r}")
    return value


def default_database_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / DATABASE_FILE).resolve()}"


def load_settings(
    data_dir: Path | str | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Build Settings from DATA_DIR/config.toml, then CLTD_* variables (which win)."""
    env = os.environ if env is None else env
    root = Path(data_dir or env.get("CLTD_DATA_DIR") or "cltd-data").expanduser().resolve()
    values: dict[str, object] = {}
    config_file = root / CONFIG_FILE
    if config_file.is_file():
        try:
            values.update(tomllib.loads(config_file.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(str(config_file), f"is not valid TOML ({err})") from None
    for name in _FIELD_TYPES:
        if name == "data_dir":
            continue
        env_value = env.get(_ENV_PREFIX + name.upper())
        if env_value is not None:
            values[name] = env_value
    unknown = sorted(set(values) - set(_FIELD_TYPES) - {"data_dir"})
    if unknown:
        raise ConfigError(unknown[0], f"is not a known setting (in {config_file})")
    coerced = {key: _coerce(key, value) for key, value in values.items()}
    if "secret_key" not in coerced:
        secret_file = root / SECRET_KEY_FILE
        if not secret_file.is_file():
            raise ConfigError(
                "secret_key", f"no trust in {root}: run `cltd init --data-dir {root}` first"
            )
        coerced["secret_key"] = secret_file.read_text(encoding="utf-8").strip()
    coerced.setdefault("database_url", default_database_url(root))
    return Settings(data_dir=root, **coerced).validated()  # type: ignore[arg-type]
