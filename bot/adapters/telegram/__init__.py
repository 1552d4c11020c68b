"""Wholehearted on Telegram, with python-telegram-bot: private chats, couples, group workshops."""

from bot.adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]
