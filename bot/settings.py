"""Settings from the environment and `.env`; a bad value stops start-up with one sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_DATA_DIR / 'wholehearted.sqlite3'}"


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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_protocol: bool = False

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
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`.env.example` lists every setting with an empty value; empty means not set."""
        return None if isinstance(value, str) and not value.strip() else value

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
    """One sentence naming the setting that is wrong."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule between settings: its message names them
            raise SettingsError(str(first["msg"]).removeprefix("Value error, ") + ".") from None
        name = str(first["loc"][0]).upper()
        raise SettingsError(f"The setting {name} is not valid: {first['msg']}.") from None
