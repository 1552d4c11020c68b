"""Settings from the environment and `.env`; a bad value stops start-up with one sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATA_DIR = Path("data")
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_DATA_DIR / 'wholehearted.sqlite3'}"
# The URL schemes the bot has drivers for; anything else would fail deep inside SQLAlchemy
# with a traceback about a missing module.
DATABASE_SCHEMES = frozenset(
    {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"}
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATABASE_EXAMPLES = "sqlite:///data/wholehearted.sqlite3 or postgresql://user@host/dbname"
# Settings whose value may be, or hold, a secret: an error about them never repeats it.
_SECRET = frozenset(
    {
        "database_url",
        "telegram_bot_token",
        "discord_bot_token",
        "reply_encryption_key",
        "reply_encryption_key_new",
        "telegram_webhook_secret",
        "telegram_webhook_url",
    }
)
# What a value must look like, where pydantic's own words ("should match pattern ...")
# would not help a person.
_SHAPES = {"discord_shard_ids": "shard numbers separated by commas, such as 0,1"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, min_length=1)
    telegram_bot_token: SecretStr | None = None
    discord_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    discord_api_base_url: str | None = None
    reply_encryption_key: SecretStr | None = None
    reply_encryption_key_new: SecretStr | None = None
    discord_dev_guild_id: int | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = None
    telegram_paid_broadcast: bool = False
    telegram_messages_per_second: float | None = Field(default=None, gt=0, le=1000)
    discord_shard_count: int | None = Field(default=None, ge=1)
    discord_shard_ids: str | None = Field(default=None, pattern=r"^\s*\d+\s*(,\s*\d+\s*)*$")
    tick_seconds: float = Field(default=20.0, gt=0, le=60)
    log_level: str = "INFO"
    log_protocol: bool = False
    # Prometheus metrics and /healthz (`bot.metrics`): off unless a port is set, and only
    # on this machine unless told otherwise.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_listen: str = Field(default="127.0.0.1", min_length=1)

    @field_validator(
        "telegram_bot_token",
        "discord_bot_token",
        "telegram_api_base_url",
        "discord_api_base_url",
        "reply_encryption_key",
        "reply_encryption_key_new",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "discord_dev_guild_id",
        "discord_shard_count",
        "discord_shard_ids",
        "telegram_messages_per_second",
        "metrics_port",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`.env.example` lists every setting with an empty value; empty means not set."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level")
    @classmethod
    def _any_case(cls, value: str) -> str:
        """People write `info` as often as `INFO`; Python's logging wants the capitals."""
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"it must be one of {', '.join(LOG_LEVELS)}, in any case")
        return level

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        scheme, found, _ = value.strip().partition("://")
        if not found:
            raise ValueError(f"it must be a database URL, such as {DATABASE_EXAMPLES}")
        if scheme.lower() not in DATABASE_SCHEMES:
            shown = scheme if scheme.isascii() and len(scheme) <= 30 else "another kind"
            raise ValueError(
                "the bot works with SQLite and PostgreSQL only (URLs starting sqlite:// or "
                f"postgresql://), not {shown}"
            )
        try:
            make_url(value.strip())
        except (ArgumentError, ValueError):  # a port that is not a number, say
            raise ValueError(
                f"it is not a URL the bot can read; it should look like {DATABASE_EXAMPLES}"
            ) from None
        return value.strip()

    @property
    def discord_shards(self) -> list[int] | None:
        """The shards this process connects (DISCORD_SHARD_IDS), or None for all of them."""
        if self.discord_shard_ids is None:
            return None
        return [int(part) for part in self.discord_shard_ids.split(",")]

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        shards = self.discord_shards
        if shards is not None and self.discord_shard_count is None:
            raise ValueError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT as well")
        if shards is not None and any(shard >= (self.discord_shard_count or 0) for shard in shards):
            raise ValueError("each of DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT")
        return self


class SettingsError(Exception):
    """One sentence naming the setting that is wrong; `problems` has one per wrong setting
    (`wholehearted doctor` lists them all)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0])
        self.problems = problems


def _wanted(error: ErrorDetails) -> str:
    """What the value must be, in a person's words."""
    kind, ctx = error["type"], error.get("ctx") or {}
    name = str(error["loc"][0])
    if name in _SHAPES and kind == "string_pattern_mismatch":
        return f"it must be {_SHAPES[name]}"
    words: dict[str, str] = {
        "int_parsing": "it must be a whole number",
        "float_parsing": "it must be a number",
        "bool_parsing": "it must be true or false",
        "greater_than": f"it must be greater than {_number(ctx.get('gt'))}",
        "greater_than_equal": f"it must be at least {_number(ctx.get('ge'))}",
        "less_than_equal": f"it must be at most {_number(ctx.get('le'))}",
        "less_than": f"it must be less than {_number(ctx.get('lt'))}",
        "string_too_short": "it must not be empty",
    }
    if kind in words:
        return words[kind]
    return str(error["msg"]).removeprefix("Value error, ")


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(error: ErrorDetails) -> str:
    """One sentence for one invalid setting: its variable, what it must be, and the value
    given when that is no secret."""
    if not error["loc"]:  # a rule between settings: its message names them
        return str(error["msg"]).removeprefix("Value error, ") + "."
    name = str(error["loc"][0])
    given = error.get("input")
    shown = ""
    if name not in _SECRET and isinstance(given, str) and len(given) <= 40 and given.isprintable():
        shown = f" (it is {given!r})"
    return f"The setting {name.upper()} is not valid: {_wanted(error)}{shown}."


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError([describe(error) for error in exc.errors()]) from None
