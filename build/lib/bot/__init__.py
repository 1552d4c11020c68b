"""Wholehearted: one small intimacy practice a day, on Telegram, Discord and the terminal."""
