"""The Telegram adapter: PTB handlers that turn updates into core calls, and its lifecycle.

Every text message and button press becomes one `Incoming` for the core; the core's
answer goes back to the same chat. Nothing here decides anything about practices,
people or privacy: those rules live in the core.
"""

from __future__ import annotations

import logging
from functools import partial

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    ChatMemberRestricted,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.telegram.messenger import (
    PLATFORM,
    RATE,
    TelegramMessenger,
    rate_for,
    translate_errors,
)
from bot.core import commands, incidents
from bot.core.command_types import Who
from bot.core.context import UPLOAD_LIMIT, Coordinates, Incoming, Upload
from bot.core.messages import Message, Outcome, Recipient, Text
from bot.core.ports import SendError, Switchboard
from bot.core.service import Core, split_command
from bot.logs import protect_records
from bot.settings import Settings

log = logging.getLogger(__name__)

NOT_TEXT = "I can only keep written replies. Please send your reply as a text message."
NOT_FETCHED = "I couldn't fetch your file from Telegram just now. Please send it again."
ADMIN_STATUSES = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}
MEMBER_STATUSES = {*ADMIN_STATUSES, ChatMemberStatus.MEMBER}


def command_menus() -> list[tuple[BotCommandScope, list[BotCommand]]]:
    """The command menus, from the registry: private chats list what works there; in groups,
    members see what everyone may use and administrators also what only they may."""
    private = [c for c in commands.COMMANDS if c.where.in_private]
    group = [c for c in commands.COMMANDS if c.where.in_group]
    everyone = [c for c in group if c.who is Who.EVERYONE]
    return [
        (BotCommandScopeAllPrivateChats(), [BotCommand(c.name, c.summary) for c in private]),
        (BotCommandScopeAllGroupChats(), [BotCommand(c.name, c.summary) for c in everyone]),
        (BotCommandScopeAllChatAdministrators(), [BotCommand(c.name, c.summary) for c in group]),
    ]


class TelegramAdapter:
    """Owns the PTB `Application`; `start()` and `stop()` fit into one shared event loop."""

    def __init__(self, settings: Settings, core: Core, switchboard: Switchboard) -> None:
        assert settings.telegram_bot_token is not None
        protect_records()  # python-telegram-bot and httpx log updates and calls (bot.logs)
        self.settings = settings
        self.core = core
        self.switchboard = switchboard
        builder: ApplicationBuilder = (  # type: ignore[type-arg]
            Application.builder()
            .token(settings.telegram_bot_token.get_secret_value())
            # Answers at the plain limit; paid broadcasts have PTB's own 1,000 a second.
            .rate_limiter(
                AIORateLimiter(
                    overall_max_rate=settings.telegram_messages_per_second or RATE, max_retries=3
                )
            )
        )
        if settings.telegram_api_base_url:
            base = settings.telegram_api_base_url.rstrip("/")
            builder = builder.base_url(base).base_file_url(base.replace("/bot", "/file/bot", 1))
        self.application = builder.build()
        self.messenger = TelegramMessenger(
            self.application.bot,
            self.deep_link,
            rate=rate_for(settings),
            paid_broadcast=settings.telegram_paid_broadcast,
        )
        self.application.add_handler(CallbackQueryHandler(self.on_button))
        self.application.add_handler(MessageHandler(filters.TEXT, self.on_text))
        self.application.add_handler(MessageHandler(filters.Document.ALL, self.on_document))
        self.application.add_handler(
            MessageHandler(filters.ChatType.PRIVATE & filters.LOCATION, self.on_location)
        )
        self.application.add_handler(
            MessageHandler(filters.ChatType.PRIVATE & ~filters.TEXT, self.on_other_message)
        )
        self.application.add_error_handler(self.on_error)

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.application.bot.username}?start={payload}"

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Ready to send; with a webhook, every process takes the updates sent to it."""
        await self.application.initialize()
        self.core.ctx.deep_links[PLATFORM] = self.deep_link
        self.core.ctx.memberships[PLATFORM] = self.is_member
        self.switchboard.register(self.messenger)
        await self._register_commands()
        await self.application.start()
        assert self.application.updater is not None
        if self.settings.telegram_webhook_url:
            await self.application.updater.start_webhook(
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                url_path="telegram",
                webhook_url=self.settings.telegram_webhook_url,
                secret_token=(
                    self.settings.telegram_webhook_secret.get_secret_value()
                    if self.settings.telegram_webhook_secret
                    else None
                ),
            )
        log.info("Telegram adapter running as @%s", self.application.bot.username)

    async def lead(self) -> None:
        """Only the elected process polls: Telegram answers a second poller with 409."""
        updater = self.application.updater
        if self.settings.telegram_webhook_url or updater is None or updater.running:
            return
        await updater.start_polling(allowed_updates=["message", "callback_query"])
        log.info("Telegram: this process takes the updates")

    async def step_down(self) -> None:
        updater = self.application.updater
        if not self.settings.telegram_webhook_url and updater is not None and updater.running:
            await updater.stop()

    async def stop(self) -> None:
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _register_commands(self) -> None:
        for scope, menu in command_menus():
            await translate_errors(partial(self.application.bot.set_my_commands, menu, scope=scope))

    # --- updates ------------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None or user is None or message.text is None:
            return
        if chat.type == ChatType.PRIVATE:
            reply_to = message.reply_to_message
            incoming = Incoming(
                PLATFORM,
                str(user.id),
                user.full_name,
                message.text,
                reply_to_message_id=str(reply_to.message_id) if reply_to else None,
            )
        else:
            command = split_command(message.text)
            if command is None or not self._addressed_to_me(message.text):
                return  # group conversation, or another bot's command
            incoming = Incoming(
                PLATFORM,
                str(user.id),
                user.full_name,
                message.text,
                chat_id=str(chat.id),
                is_admin=await self._is_admin(chat.id, user.id, command),
            )
        await self._answer(
            incoming, Recipient(PLATFORM, str(chat.id), is_chat=chat.type != ChatType.PRIVATE)
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        await query.answer()
        chat = update.effective_chat
        if not query.data or not query.data.startswith("/"):
            await self._answer_text(
                Recipient(PLATFORM, str(user.id)),
                "That button is from an older version of the bot. Type "
                "/today for today's practice or /help for commands.",
            )
            return
        in_group = chat is not None and chat.type != ChatType.PRIVATE
        command = split_command(query.data)
        incoming = Incoming(
            PLATFORM,
            str(user.id),
            user.full_name,
            query.data,
            chat_id=str(chat.id) if in_group and chat else None,
            is_admin=(
                await self._is_admin(chat.id, user.id, command)
                if in_group and chat and command
                else False
            ),
        )
        target = str(chat.id) if chat is not None else str(user.id)
        await self._answer(incoming, Recipient(PLATFORM, target, is_chat=in_group))

    async def on_location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A location shared in a private chat: the core looks up its time zone. It goes
        no further than that call: never stored, never logged."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.location is None:
            return
        where = Coordinates(message.location.latitude, message.location.longitude)
        incoming = Incoming(PLATFORM, str(user.id), user.full_name, "", location=where)
        await self._answer(incoming, Recipient(PLATFORM, str(message.chat_id)))

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A file (a facilitator's program). It is fetched only in a private chat and only
        when small enough (`getFile`, then its file path); the core judges the rest."""
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None or user is None or message.document is None:
            return
        document, private = message.document, chat.type == ChatType.PRIVATE
        where = Recipient(PLATFORM, str(chat.id), is_chat=not private)
        size, content = document.file_size or 0, None
        if private and size <= UPLOAD_LIMIT:
            try:
                file = await translate_errors(document.get_file)
                content = bytes(await translate_errors(file.download_as_bytearray))
            except SendError:
                await self._answer_text(where, NOT_FETCHED)
                return
        upload = Upload(document.file_name or "file", len(content or b"") or size, content)
        incoming = Incoming(
            PLATFORM,
            str(user.id),
            user.full_name,
            (message.caption or "") if private else "",
            chat_id=None if private else str(chat.id),
            document=upload,
        )
        await self._answer(incoming, where)

    async def on_other_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is not None:
            await self._answer_text(Recipient(PLATFORM, str(chat.id)), NOT_TEXT)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The adapter's one failure boundary: an incident in the log (never what anyone
        wrote), one sentence with its id for the person, and the bot goes on."""
        if context.error is None:
            return
        incident = incidents.record(context.error, "a Telegram update")
        if isinstance(update, Update) and update.effective_chat is not None:
            where = Recipient(PLATFORM, str(update.effective_chat.id))
            try:
                await self._answer_text(where, incidents.apology(incident))
            except SendError:
                log.warning("could not tell the person about incident %s", incident)

    # --- helpers ------------------------------------------------------------------------

    def _addressed_to_me(self, text: str) -> bool:
        head = text.split(maxsplit=1)[0]
        if "@" not in head:
            return True
        return head.split("@", 1)[1].lower() == (self.application.bot.username or "").lower()

    async def _is_admin(self, chat_id: int, user_id: int, command: tuple[str, str] | None) -> bool:
        """Asked of Telegram at the moment of a command for administrators, never cached."""
        spec = commands.find(command[0]) if command is not None else None
        if spec is None or spec.who is not Who.ADMINS:
            return False
        member = await translate_errors(
            lambda: self.application.bot.get_chat_member(chat_id, user_id)
        )
        return member.status in ADMIN_STATUSES

    async def is_member(self, chat_id: str, user_id: str) -> bool:
        """Asked of Telegram when someone replies to a workshop post, never cached; a
        question Telegram cannot answer now vouches for nobody."""
        try:
            member = await translate_errors(
                lambda: self.application.bot.get_chat_member(int(chat_id), int(user_id))
            )
        except SendError:
            return False
        if isinstance(member, ChatMemberRestricted):
            return member.is_member
        return member.status in MEMBER_STATUSES

    async def _answer(self, incoming: Incoming, where: Recipient) -> None:
        outcome: Outcome = await self.core.handle(incoming)
        if outcome.private and where.is_chat:
            await self._answer_privately(incoming.user_id, where, outcome)
        else:
            for message in outcome.replies:
                await self._send_quietly(where, message)
        self.switchboard.after(outcome)

    async def _answer_privately(self, user_id: str, group: Recipient, outcome: Outcome) -> None:
        """What only its asker may read goes to their private chat; the group learns only
        where it went."""
        try:
            for message in outcome.replies:
                await self.messenger.send(Recipient(PLATFORM, user_id), message)
        except SendError:
            note = (
                "I answer that only in a private chat, and I can't start one with you: open "
                f"https://t.me/{self.application.bot.username}, press Start, then ask again here."
            )
        else:
            note = "I've answered you in our private chat."
        await self._send_quietly(group, Text(note))

    async def _answer_text(self, where: Recipient, text: str) -> None:
        await self.messenger.send(where, Text(text))

    async def _send_quietly(self, where: Recipient, message: Message) -> None:
        try:
            await self.messenger.send(where, message)
        except SendError as error:
            log.warning("an answer could not be sent: %s", type(error).__name__)
