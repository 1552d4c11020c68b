"""Thin translators between chat platforms and `bot.core.service.Core`."""
