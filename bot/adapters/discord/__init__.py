"""Wholehearted on Discord, with discord.py: slash commands, DMs, couples, channel workshops."""

from bot.adapters.discord.adapter import DiscordAdapter

__all__ = ["DiscordAdapter"]
