"""The one module that reads the process environment and `.env`.

Entry points (`sync-models`, `catalog-server`) and the resources (when a run starts) call
`load_settings()`; nothing reads settings at import. A variable set in the real environment wins
over the same name in `.env` (the file in the working directory). Values that are secrets never
appear in a repr.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values
from pydantic import Field, PrivateAttr, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_FILE = ".env"
DATABASE_URL_ENV_VAR = "CATALOG_DATABASE_URL"
SYNC_CRON_ENV_VAR = "CATALOG_SYNC_CRON"
STALE_AFTER_ENV_VAR = "CATALOG_STALE_AFTER_HOURS"
ADMIN_KEY_ENV_VAR = "ADMIN_API_KEY"
DAGSTER_HOME_ENV_VAR = "DAGSTER_HOME"
WEBHOOK_URL_ENV_VAR = "CATALOG_WEBHOOK_URL"
WEBHOOK_SECRET_ENV_VAR = "CATALOG_WEBHOOK_SECRET"
EXPORT_DIR_ENV_VAR = "CATALOG_EXPORT_DIR"
SYNC_WORKERS_ENV_VAR = "CATALOG_SYNC_WORKERS"

DEFAULT_SYNC_CRON = "0 3 * * *"
DEFAULT_STALE_AFTER_HOURS = 48.0  # a daily schedule plus a missed day


class SettingsError(Exception):
    """A setting has a value that cannot be used; the message names the variable."""


class CatalogSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=ENV_FILE, case_sensitive=True, env_ignore_empty=True, extra="ignore"
    )

    # repr=False: a database URL may carry a password.
    database_url: str | None = Field(default=None, alias=DATABASE_URL_ENV_VAR, repr=False)
    sync_cron: str = Field(default=DEFAULT_SYNC_CRON, alias=SYNC_CRON_ENV_VAR)
    stale_after_hours: float = Field(default=DEFAULT_STALE_AFTER_HOURS, alias=STALE_AFTER_ENV_VAR, gt=0)
    admin_api_key: SecretStr | None = Field(default=None, alias=ADMIN_KEY_ENV_VAR)
    dagster_home: str | None = Field(default=None, alias=DAGSTER_HOME_ENV_VAR)
    # repr=False: a webhook URL often carries a token.
    webhook_url: str | None = Field(default=None, alias=WEBHOOK_URL_ENV_VAR, repr=False)
    webhook_secret: SecretStr | None = Field(default=None, alias=WEBHOOK_SECRET_ENV_VAR)
    export_dir: str | None = Field(default=None, alias=EXPORT_DIR_ENV_VAR)
    # Processes sharing a sync-models call's runs; None: one per core, at most two.
    sync_workers: int | None = Field(default=None, alias=SYNC_WORKERS_ENV_VAR, ge=1)

    # Every variable, `.env` under the real environment: provider keys and base URLs are named
    # per provider (`<SLUG>_API_KEY`), so they cannot be fields.
    _variables: dict[str, str] = PrivateAttr(default_factory=dict)

    def variable(self, name: str) -> str | None:
        """The value of `name`, or None when it is unset or empty."""
        return self._variables.get(name) or None


def load_settings(env_file: Path | str = ENV_FILE) -> CatalogSettings:
    """Read the environment and `env_file` (relative to the working directory) now."""
    try:
        settings = CatalogSettings(_env_file=env_file)
    except ValidationError as exc:
        # The input value is left out: it may be a secret.
        problems = "; ".join(f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors())
        raise SettingsError(f"invalid setting ({problems})") from None
    from_file = {name: value for name, value in dotenv_values(env_file).items() if value is not None} if Path(env_file).is_file() else {}
    # As for the fields above, an empty variable counts as unset.
    settings._variables = {**from_file, **{name: value for name, value in os.environ.items() if value}}
    return settings


def export_variable(name: str, value: str) -> None:
    """Set a variable for this process and its children, for tools that read it themselves (Dagster's DAGSTER_HOME)."""
    os.environ[name] = value


def withhold_variable(name: str) -> None:
    """Keep a variable (the admin key) from the child processes started after this call."""
    os.environ.pop(name, None)
