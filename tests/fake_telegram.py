"""A fake Telegram Bot API server on 127.0.0.1, answering python-telegram-bot as Telegram does.

It speaks the real wire format (the `{"ok": ..., "result": ...}` envelope, error codes and
descriptions, `getUpdates` offsets and long polling), records every call the bot makes,
and lets a test inject messages, commands, deep-link starts and button presses.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT = {
    "id": 424242,
    "is_bot": True,
    "first_name": "Wholehearted",
    "username": "WholeheartedBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
TOKEN = "424242:TEST-token-for-the-fake-server"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class FakeTelegram:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    # chat id -> list of (status, description, retry_after) to answer sendMessage with, in turn
    failures: dict[int, list[tuple[int, str, int | None]]] = field(default_factory=dict)
    admins: set[tuple[int, int]] = field(default_factory=set)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    # Telegram holds a long poll up to its timeout; a short cap keeps shutdowns quick.
    long_poll_cap: float = 0.2
    _new: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    url: str = ""

    # --- server -------------------------------------------------------------------------

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_route("*", "/bot{token}/{method}", self._handle)
        return application

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
            return data
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "data": value.file.read()}
            else:
                params[key] = str(value)
        return params

    @staticmethod
    def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=code)

    # --- Bot API methods ----------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, self.long_poll_cap)
        while True:
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if pending or time.monotonic() >= deadline:
                return pending[: int(params.get("limit") or 100)]
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), deadline - time.monotonic())

    async def _m_getChatMember(self, params: dict[str, Any]) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        status = "administrator" if (chat_id, user_id) in self.admins else "member"
        user = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
        return member

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._send(params, {"text": params.get("text", "")})

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        document = params.get("document") or {}
        return self._send(
            params,
            {
                "caption": params.get("caption", ""),
                "document": {
                    "file_id": "doc1",
                    "file_unique_id": "u1",
                    "file_name": document.get("filename"),
                },
            },
        )

    def _send(self, params: dict[str, Any], content: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        planned = self.failures.get(chat_id)
        if planned:
            status, description, retry_after = planned.pop(0)
            return self._error(status, description, retry_after)
        chat = (
            {"id": chat_id, "type": "private", "first_name": "U"}
            if chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": "Group"}
        )
        message_id = next(self._message_ids)
        self.delivered.append({**params, "message_id": message_id})
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": BOT,
            **content,
        }

    # --- what tests use -----------------------------------------------------------------

    def build_message(self, user_id: int, name: str, text: str) -> dict[str, Any]:
        """An update carrying a private message, without queueing it for getUpdates."""
        self.message(user_id, name, text)
        return self.updates.pop()

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._ids)
        self.updates.append(update)
        self._new.set()

    @staticmethod
    def user(user_id: int, name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name}

    def message(
        self,
        user_id: int,
        name: str,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> None:
        chat = (
            {"id": user_id, "type": "private", "first_name": name}
            if chat_id is None
            else {"id": chat_id, "type": "supergroup", "title": "Workshop group"}
        )
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id, name),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": chat,
                "from": BOT,
                "text": "practice",
            }
        self._push({"message": message})

    def press(
        self, user_id: int, name: str, data: str, *, message_id: int = 1, chat_id: int | None = None
    ) -> None:
        chat = (
            {"id": user_id, "type": "private", "first_name": name}
            if chat_id is None
            else {"id": chat_id, "type": "supergroup", "title": "Workshop group"}
        )
        self._push(
            {
                "callback_query": {
                    "id": str(next(self._ids)),
                    "from": self.user(user_id, name),
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(time.time()),
                        "chat": chat,
                        "from": BOT,
                        "text": "old message",
                    },
                }
            }
        )

    def raw(self, update: dict[str, Any]) -> None:
        self._push(update)

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """What the bot sent successfully, to one chat or to all."""
        return [p for p in self.delivered if chat_id is None or int(p["chat_id"]) == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        return [p.get("text") or p.get("caption") or "" for p in self.sent(chat_id)]

    def buttons(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        markup = params.get("reply_markup")
        if not markup:
            return []
        data = json.loads(markup) if isinstance(markup, str) else markup
        return [button for row in data["inline_keyboard"] for button in row]

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not do what was expected in time")
            await asyncio.sleep(0.02)
