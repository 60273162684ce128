"""Configuration, read once from ``SOSTENUTO_*`` environment variables.

Nothing is built at import time: callers ask :func:`get_settings` and pass the result on.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "sostenuto"


class Settings(BaseSettings):
    """Runtime settings. ``SOSTENUTO_DATA_DIR`` and ``SOSTENUTO_DATABASE_URL`` matter most."""

    model_config = SettingsConfigDict(env_prefix="SOSTENUTO_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    ray_address: str | None = None
    # Witnesses whose cosignatures the log accepts: cosignature/v1 verifier keys, comma-separated.
    witness_keys: str = ""
    # C2SP tlog-witness: submission prefixes the log sends its checkpoints to (comma-separated),
    # logs this service witnesses (note verifier keys, comma-separated), its witness key name.
    witness_urls: str = ""
    witnessed_logs: str = ""
    witness_name: str = ""
    # The log's origin when its key is created; default: the prefix it is served at.
    log_origin: str = ""
    # Webhook receivers on loopback or private networks: for a deployment inside one.
    webhook_private_networks: bool = False

    @property
    def resolved_database_url(self) -> str:
        """The database URL: the configured one, else SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'sostenuto.sqlite3'}"

    @property
    def witness_key_list(self) -> list[str]:
        return [key.strip() for key in self.witness_keys.split(",") if key.strip()]

    @property
    def keys_dir(self) -> Path:
        """Where signing keys (log, C2PA) live."""
        return self.data_dir / "keys"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
