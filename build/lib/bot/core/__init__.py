"""The platform-free core: every business rule lives here once, behind `bot.core.service.Core`.

Nothing in this package imports a chat library; adapters translate platform events into
`Core` calls and the returned `Message` objects into platform messages.
"""
