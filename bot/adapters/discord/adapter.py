"""The Discord adapter: discord.py events and interactions in, core answers out.

Personal commands answer ephemerally in servers, so nobody else in the channel sees them;
DMs are private already. Replies are written in a modal. Nothing here decides anything
about practices, people or privacy: those rules live in the core.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import sys
from typing import Any

import aiohttp
import discord
import yarl
from aiolimiter import AsyncLimiter
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.commands import slash_commands
from bot.adapters.discord.render import ActionButton, ActionMenu, send_kwargs
from bot.core import incidents
from bot.core.context import UPLOAD_LIMIT, Incoming, Upload
from bot.core.messages import Message, Outcome, Recipient, Text
from bot.core.ports import (
    ANSWER,
    Attempt,
    NotDelivered,
    OutcomeUnknown,
    RecipientGone,
    Rejected,
    SendError,
    Switchboard,
)
from bot.core.service import Core
from bot.logs import protect_records
from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "discord"
# Discord's global limit for a bot: 50 requests a second.
REQUESTS_PER_SECOND = 50
# A Reply button names only its practice (`/reply #12`, `/reply ws-7`) and opens the form;
# a button that already carries the words ("Keep it in my journal") keeps them at once.
NOT_FETCHED = "I couldn't fetch your file from Discord just now. Please send it again."
REPLY_FORM = re.compile(r"/reply(?: (?:#|ws-)[0-9]+)?")
# Voice is not used; without this discord.py warns at every start that it is unavailable.
discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False


def intents() -> discord.Intents:
    """Guilds, for channels and permissions; DM messages, for plain-text replies.

    No privileged intent: slash commands, buttons and modals arrive as interactions, and
    Discord includes the text of direct messages without the message content intent.
    """
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.dm_messages = True
    return chosen


class ReplyForm(discord.ui.Modal):
    """The private reply form; submitting it runs `/reply <reference> <text>`."""

    def __init__(self, adapter: DiscordAdapter, action: str) -> None:
        super().__init__(title="Your private reply", timeout=None)
        self.adapter = adapter
        self.action = action
        self.text: discord.ui.TextInput[ReplyForm] = discord.ui.TextInput(
            label="Only you will see this unless you share it",
            style=discord.TextStyle.paragraph,
            max_length=4000,
            required=True,
            custom_id="reply-text",
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.adapter.on_command(interaction, f"{self.action} {self.text.value}")

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await self.adapter.report_failure(interaction, error)


def _shards(settings: Settings) -> dict[str, Any]:
    """discord.py asks Discord for the shard count unless both are given."""
    if settings.discord_shards is None:
        return {}
    return {"shard_count": settings.discord_shard_count, "shard_ids": settings.discord_shards}


class WholeheartedBot(commands.AutoShardedBot):
    """Shards are discovered through `/gateway/bot`, which a REST proxy can answer too,
    unless DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS split them between processes."""

    def __init__(self, adapter: DiscordAdapter, guild_ready_timeout: float) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            guild_ready_timeout=guild_ready_timeout,
            **_shards(adapter.settings),
        )
        self.adapter = adapter

    async def setup_hook(self) -> None:
        for command in slash_commands(self.adapter):
            self.tree.add_command(command)
        self.add_dynamic_items(ActionButton, ActionMenu)
        self.tree.error(self.adapter.on_app_command_error)
        guild_id = self.adapter.settings.discord_dev_guild_id
        if guild_id is not None:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_direct_message(message)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Events (a DM) reach the adapter's failure boundary too, not discord.py's logger."""
        error = sys.exc_info()[1]
        if error is None:
            return
        message = args[0] if args and isinstance(args[0], discord.Message) else None
        await self.adapter.report_event_failure(error, message)


class DiscordMessenger:
    """Sends through discord.py, telling the core what each failure proves.

    A send with a key carries a nonce made from it with `enforce_nonce`: Discord then
    answers a retried send (the core's, or discord.py's own after a 5xx) with the message
    it already created, for a few minutes, instead of creating a second one.
    """

    platform = PLATFORM
    # Discord allows 50 requests a second per bot; sending one message is one request
    # once the DM channel is known (discord.py keeps them).
    rate_per_second = float(REQUESTS_PER_SECOND)

    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter
        self.limiter = AsyncLimiter(REQUESTS_PER_SECOND * 0.97, 1)

    async def probe(self) -> None:
        try:
            async with self.limiter:
                await self.adapter.bot.http.request(discord.http.Route("GET", "/users/@me"))
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as error:
            raise NotDelivered(type(error).__name__) from None

    async def send(self, to: Recipient, message: Message, attempt: Attempt = ANSWER) -> str | None:
        channel = await self._channel(to)
        calls = send_kwargs(message)
        sent: discord.Message | None = None
        for index in attempt.parts(len(calls)):
            kwargs = calls[index]
            if attempt.key:
                kwargs["nonce"] = f"{attempt.key}.{index}"
            try:
                async with self.limiter:
                    sent = await channel.send(**kwargs)
            except (discord.Forbidden, discord.NotFound) as error:
                # Closed DMs (50007) included: the person is told privately, at their
                # next command in a server (`bot.core.service`), never in a channel.
                raise RecipientGone(f"discord {error.code}") from None
            except discord.HTTPException as error:
                raise _judged(error) from None
            except aiohttp.ClientConnectorError as error:
                raise NotDelivered(type(error).__name__) from None
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                raise OutcomeUnknown(type(error).__name__) from None
            await attempt.sent(index, len(calls))
        return str(sent.id) if sent else None

    async def _channel(self, to: Recipient) -> discord.abc.Messageable:
        """The channel to post in; opening a DM creates nothing a person sees, so any
        failure here proves nothing was delivered."""
        bot, target = self.adapter.bot, int(to.user_id)
        if to.is_chat:
            known = bot.get_channel(target)
        else:
            user = bot.get_user(target)
            known = user.dm_channel if user is not None else None
        if isinstance(known, discord.abc.Messageable):
            return known  # no request needed
        try:
            async with self.limiter:
                if to.is_chat:
                    found = await bot.fetch_channel(target)
                    assert isinstance(found, discord.abc.Messageable)
                    return found
                return await bot.create_dm(discord.Object(target))
        except (discord.Forbidden, discord.NotFound) as error:
            raise RecipientGone(f"discord {error.code}") from None
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as error:
            raise NotDelivered(type(error).__name__) from None


def _judged(error: discord.HTTPException) -> SendError:
    if error.status == 429:
        retry_after = getattr(error, "retry_after", None)
        return NotDelivered("rate limited", float(retry_after) if retry_after else 1.0)
    if error.status >= 500:
        return OutcomeUnknown(f"discord {error.status}")
    return Rejected(f"discord {error.status} {error.code}")


class DiscordAdapter:
    """Owns the discord.py client; `start()` and `stop()` fit into one shared event loop."""

    def __init__(
        self,
        settings: Settings,
        core: Core,
        switchboard: Switchboard,
        *,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        assert settings.discord_bot_token is not None
        protect_records()  # discord.py logs gateway events and REST bodies (bot.logs)
        self.settings = settings
        self.core = core
        self.switchboard = switchboard
        self.bot = WholeheartedBot(self, guild_ready_timeout)
        self.messenger = DiscordMessenger(self)
        self._connection: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, ready to send. The gateway is connected here when this process has
        shards of its own (DISCORD_SHARD_IDS); otherwise by the leader (`lead`), since
        two processes on the same shards would each handle every event."""
        if self.settings.discord_api_base_url:
            discord.http.Route.BASE = self.settings.discord_api_base_url.rstrip("/")
        assert self.settings.discord_bot_token is not None
        await self.bot.login(self.settings.discord_bot_token.get_secret_value())
        self.core.ctx.memberships[PLATFORM] = self.is_member
        if self.settings.discord_shards is not None:
            await self._connect()
        self.switchboard.register(self.messenger)

    async def lead(self) -> None:
        if self._connection is None:
            await self._connect()

    async def step_down(self) -> None:
        """The gateway stays: events keep being answered while another process sends."""

    async def _connect(self) -> None:
        if self.settings.discord_shards is not None and self.settings.discord_api_base_url:
            # discord.py asks /gateway/bot for the address only when it also asks for the
            # shard count; behind a proxy, the proxy's answer is the address to use.
            _, url, _ = await self.bot.http.get_bot_gateway()
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        self._connection = asyncio.create_task(self.bot.connect(reconnect=True))
        ready = asyncio.create_task(self.bot.wait_until_ready())
        done, _ = await asyncio.wait({self._connection, ready}, return_when=asyncio.FIRST_COMPLETED)
        if self._connection in done:
            ready.cancel()
            self._connection.result()  # raises what stopped the connection
        log.info("Discord adapter running as %s", self.bot.user)

    async def stop(self) -> None:
        await self.bot.close()
        if self._connection is not None:
            await asyncio.gather(self._connection, return_exceptions=True)

    async def is_member(self, chat_id: str, user_id: str) -> bool:
        """Whether Discord says the person can see the workshop's channel: asked when they
        reply to one of its posts, never cached; a question Discord cannot answer now
        vouches for nobody."""
        try:
            channel = self.bot.get_channel(int(chat_id)) or await self.bot.fetch_channel(
                int(chat_id)
            )
            if not isinstance(channel, discord.abc.GuildChannel):
                return False
            member = channel.guild.get_member(int(user_id)) or await channel.guild.fetch_member(
                int(user_id)
            )
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError):
            return False
        return channel.permissions_for(member).view_channel

    # --- interactions -------------------------------------------------------------------

    def _incoming(
        self, interaction: discord.Interaction[Any], line: str, *, group: bool = False
    ) -> Incoming:
        in_server = interaction.guild_id is not None
        permissions = interaction.permissions
        return Incoming(
            PLATFORM,
            str(interaction.user.id),
            interaction.user.display_name,
            line,
            chat_id=str(interaction.channel_id) if group else None,
            is_admin=group and permissions.manage_guild,
            in_channel=in_server and not group,
        )

    async def on_command(self, interaction: discord.Interaction[Any], line: str) -> None:
        await self.on_commands(interaction, [line])

    async def on_commands(
        self, interaction: discord.Interaction[Any], lines: list[str], *, group: bool = False
    ) -> None:
        """A slash command's lines; a `group` command is the channel's (a workshop), any
        other is the person's own, answered so only they see it in a server."""
        outcome = Outcome()
        for index, line in enumerate(lines):
            step = await self.core.handle(self._incoming(interaction, line, group=group))
            last = index == len(lines) - 1
            # One slash command can carry several settings; the questions asked between
            # them are already answered, so only the last step's buttons are shown.
            outcome.replies += [
                r for r in step.replies if last or not (isinstance(r, Text) and r.buttons)
            ]
            outcome.sends_queued = outcome.sends_queued or step.sends_queued
            outcome.for_everyone = outcome.for_everyone or step.for_everyone
        in_server = interaction.guild_id is not None
        await self._respond(interaction, outcome, ephemeral=in_server and not outcome.for_everyone)

    async def on_button(self, interaction: discord.Interaction[Any], action: str) -> None:
        if REPLY_FORM.fullmatch(action):
            await self.open_reply_form(interaction, action)
        else:
            await self.on_command(interaction, action)

    async def open_reply_form(self, interaction: discord.Interaction[Any], action: str) -> None:
        await interaction.response.send_modal(ReplyForm(self, action))

    async def on_direct_message(self, message: discord.Message) -> None:
        """A DM: its text, then each file attached (a facilitator's program), fetched from
        Discord's CDN only when small enough. The text goes in on its own, so a file that
        cannot be fetched never takes the words with it."""
        if message.author.bot or message.guild is not None:
            return
        if not message.content and not message.attachments:
            return
        reference = message.reference.message_id if message.reference else None
        base = Incoming(
            PLATFORM,
            str(message.author.id),
            message.author.display_name,
            message.content,
            reply_to_message_id=str(reference) if reference else None,
        )
        events = [base] if message.content else []
        for attachment in message.attachments:
            try:
                small = attachment.size <= UPLOAD_LIMIT
                content = await attachment.read() if small else None
            except discord.HTTPException:
                await self._tell(message, Text(NOT_FETCHED))
                continue
            upload = Upload(attachment.filename, attachment.size, content)
            events.append(dataclasses.replace(base, text="", document=upload))
        for incoming in events:
            outcome = await self.core.handle(incoming)
            self.switchboard.after(outcome)
            for reply in outcome.replies:
                await self._tell(message, reply)

    async def _tell(self, message: discord.Message, reply: Message) -> None:
        try:
            for kwargs in send_kwargs(reply):
                await message.channel.send(**kwargs)
        except discord.HTTPException as error:
            # What they wrote is already kept; "please try again" would only store it twice.
            log.warning("an answer to a DM could not be sent: %s", error.status)

    async def _respond(
        self, interaction: discord.Interaction[Any], outcome: Outcome, *, ephemeral: bool
    ) -> None:
        for reply in outcome.replies:
            for kwargs in send_kwargs(reply):
                if interaction.response.is_done():
                    await interaction.followup.send(**kwargs, ephemeral=ephemeral)
                else:
                    await interaction.response.send_message(**kwargs, ephemeral=ephemeral)
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=ephemeral)
        self.switchboard.after(outcome)

    # --- failures -----------------------------------------------------------------------

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.MissingPermissions | app_commands.NoPrivateMessage):
            text = (
                "Only members who can manage this server can run workshops, and only in a "
                "server channel."
            )
            await self._say(interaction, text)
            return
        await self.report_failure(interaction, error)

    async def report_failure(self, interaction: discord.Interaction[Any], error: Exception) -> None:
        """The adapter's one failure boundary, for commands, buttons and forms: an incident
        in the log (never what anyone wrote) and one sentence with its id for the person."""
        original = getattr(error, "original", error)
        incident = incidents.record(original, "a Discord interaction")
        await self._say(interaction, incidents.apology(incident))

    async def report_event_failure(
        self, error: BaseException, message: discord.Message | None
    ) -> None:
        """The same boundary for gateway events: a DM that could not be handled."""
        incident = incidents.record(error, "a Discord event")
        if message is None:
            return
        try:
            await message.channel.send(incidents.apology(incident))
        except discord.HTTPException as failure:
            log.warning("could not tell the person about incident %s: %s", incident, failure.status)

    async def _say(self, interaction: discord.Interaction[Any], text: str) -> None:
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as failure:
            log.warning("could not tell the person about a failure: %s", type(failure).__name__)
