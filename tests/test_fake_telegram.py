"""The fake Telegram server is as strict as Telegram: proven with the real `telegram.Bot`.

Each test points python-telegram-bot's `Bot` at the fake (as `TelegramAdapter` does, through
`base_url`) and asserts which exception the bot sees and what the fake stored.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator, Awaitable, Iterable

import aiohttp
import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.fake_telegram import BAD_GATEWAY_HTML, TOKEN, FakeTelegram

ANA, BEN = 1001, 1002
GROUP, OTHER_GROUP = -100555, -100777


def _request(read_timeout: float) -> HTTPXRequest:
    return HTTPXRequest(
        read_timeout=read_timeout, write_timeout=2.0, connect_timeout=2.0, pool_timeout=2.0
    )


def _bot(fake: FakeTelegram, read_timeout: float = 3.0) -> Bot:
    """A python-telegram-bot `Bot` talking to the fake, as the adapter's does."""
    return Bot(
        TOKEN,
        base_url=fake.url,
        request=_request(read_timeout),
        get_updates_request=_request(read_timeout),
    )


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = _bot(fake)
    await client.initialize()
    try:
        yield client
    finally:
        await client.shutdown()


@pytest.fixture
async def impatient_bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A bot that waits only 0.3 s for an answer."""
    client = _bot(fake, read_timeout=0.3)
    await client.initialize()
    try:
        yield client
    finally:
        await client.shutdown()


async def _outcomes(sends: Iterable[Awaitable[object]]) -> list[object]:
    """Every send's result or exception, all sent at once."""
    return list(await asyncio.gather(*sends, return_exceptions=True))


# --- serving ----------------------------------------------------------------------------


async def test_start_serves_a_base_url_the_bot_uses(fake: FakeTelegram, bot: Bot) -> None:
    assert fake.url.startswith("http://127.0.0.1:") and fake.url.endswith("/bot")
    assert bot.username == "WholeheartedBot"
    sent = await bot.send_message(ANA, "hello")
    assert fake.texts(ANA) == ["hello"] and sent.message_id == fake.sent(ANA)[0]["message_id"]


# --- flood limits -----------------------------------------------------------------------


async def test_over_the_overall_rate_sends_get_429_and_nothing_is_stored(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.rate_limit = 5
    outcomes = await _outcomes(bot.send_message(ANA, f"n{n}") for n in range(8))
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(fake.sent(ANA)) == 5 and len(refused) == 3
    assert all(isinstance(o, RetryAfter) and _seconds(o.retry_after) == 1 for o in refused)
    assert fake.served_429 == 3
    await asyncio.sleep(0.25)  # 5 a second: a token is back after 0.2 s
    await bot.send_message(ANA, "after the wait")
    assert fake.texts(ANA)[-1] == "after the wait"


async def test_the_overall_limit_counts_every_sending_method(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limit = 3
    await bot.send_message(ANA, "one")
    await bot.send_document(ANA, InputFile(b"x", filename="a.txt"))
    await bot.copy_message(ANA, from_chat_id=BEN, message_id=7)
    with pytest.raises(RetryAfter):
        await bot.forward_message(ANA, from_chat_id=BEN, message_id=7)
    await bot.get_me()  # not a send: no limit
    assert fake.deliveries_per_chat() == {ANA: 3}


async def test_no_overall_limit_when_rate_limit_is_none(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limit = None
    await _outcomes(bot.send_message(ANA, f"n{n}") for n in range(40))
    assert len(fake.sent(ANA)) == 40 and fake.served_429 == 0


async def test_a_group_gets_twenty_a_minute(fake: FakeTelegram, bot: Bot) -> None:
    for n in range(20):
        await bot.send_message(GROUP, f"post {n}")
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(GROUP, "one too many")
    assert _seconds(refused.value.retry_after) == 3  # one more every 60/20 s
    await bot.send_message(OTHER_GROUP, "another group has its own budget")
    await bot.send_message(ANA, "and a private chat has none")
    assert fake.deliveries_per_chat() == {GROUP: 20, OTHER_GROUP: 1, ANA: 1}
    assert fake.served_429 == 1


async def test_the_429_is_telegrams_json(fake: FakeTelegram) -> None:
    fake.rate_limit = 1
    url = f"{fake.url}{TOKEN}/sendMessage"
    async with aiohttp.ClientSession() as http:
        first = await http.post(url, json={"chat_id": ANA, "text": "a"})
        second = await http.post(url, json={"chat_id": ANA, "text": "b"})
        assert first.status == 200
        assert second.status == 429
        assert await second.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
    assert fake.texts(ANA) == ["a"]


async def test_deliveries_per_chat_and_send_times(fake: FakeTelegram, bot: Bot) -> None:
    before = time.monotonic()
    for chat in (ANA, ANA, GROUP, ANA):
        await bot.send_message(chat, "hi")
    with pytest.raises(BadRequest):
        await bot.send_message(BEN, "")  # refused: not counted
    after = time.monotonic()
    assert fake.deliveries_per_chat() == {ANA: 3, GROUP: 1}
    times = fake.send_times()
    assert len(times) == 4 and times == sorted(times)
    assert before <= times[0] and times[-1] <= after


# --- faults -----------------------------------------------------------------------------


async def test_5xx_before_is_a_network_error_and_nothing_is_stored(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.fault("5xx_before", calls=1, methods={"sendMessage"})
    with pytest.raises(NetworkError) as failed:
        await bot.send_message(ANA, "lost at the gateway")
    assert type(failed.value) is NetworkError and "502 Bad Gateway" in failed.value.message
    assert fake.sent(ANA) == []
    await bot.send_message(ANA, "the next one goes through")
    assert fake.texts(ANA) == ["the next one goes through"]
    assert fake.faults_served["5xx_before"] == 1


async def test_the_502_is_nginxs_html(fake: FakeTelegram) -> None:
    fake.fault("5xx_before", calls=1)
    async with aiohttp.ClientSession() as http:
        answer = await http.post(f"{fake.url}{TOKEN}/getMe")
        assert answer.status == 502 and answer.content_type == "text/html"
        body = await answer.text()
    assert body == BAD_GATEWAY_HTML and "<title>502 Bad Gateway</title>" in body


async def test_5xx_after_stores_the_message_yet_the_bot_sees_a_network_error(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.fault("5xx_after", calls=1)
    with pytest.raises(NetworkError) as failed:
        await bot.send_message(ANA, "delivered, but the answer was lost")
    assert type(failed.value) is NetworkError and "Bad Gateway" in failed.value.message
    assert fake.texts(ANA) == ["delivered, but the answer was lost"]


async def test_500_json_after_stores_the_message_and_answers_internal_server_error(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.fault("500_json_after", calls=1, methods={"sendMessage"})
    with pytest.raises(NetworkError) as failed:
        await bot.send_message(ANA, "stored all the same")
    assert failed.value.message == "Internal Server Error"
    assert fake.texts(ANA) == ["stored all the same"]
    assert fake.faults_served == {"500_json_after": 1}


async def test_timeout_after_stores_the_message_and_the_bot_times_out(
    fake: FakeTelegram, impatient_bot: Bot
) -> None:
    fake.fault("timeout_after", calls=1, hold=2.0)
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await impatient_bot.send_message(ANA, "arrived, answer too late")
    assert time.monotonic() - started < 1.5
    assert fake.texts(ANA) == ["arrived, answer too late"]


async def test_timeout_before_stores_nothing(
    fake: FakeTelegram, bot: Bot, impatient_bot: Bot
) -> None:
    fake.fault("timeout_before", calls=1, hold=2.0)
    with pytest.raises(TimedOut):
        await impatient_bot.send_message(ANA, "never arrives")
    fake.fault("timeout_before", calls=1, hold=0.3)  # a patient bot: the 502 after the hold
    started = time.monotonic()
    with pytest.raises(NetworkError) as failed:
        await bot.send_message(ANA, "never arrives either")
    assert time.monotonic() - started >= 0.3
    assert type(failed.value) is NetworkError and "Bad Gateway" in failed.value.message
    assert fake.sent(ANA) == [] and fake.faults_served["timeout_before"] == 2


async def test_a_timed_outage_hits_every_method_then_ends(fake: FakeTelegram, bot: Bot) -> None:
    fake.fault("5xx_before", seconds=0.4)
    with pytest.raises(NetworkError):
        await bot.get_me()
    with pytest.raises(NetworkError):
        await bot.get_updates(timeout=0)
    with pytest.raises(NetworkError):
        await bot.send_message(ANA, "down")
    await asyncio.sleep(0.45)
    await bot.get_me()
    await bot.send_message(ANA, "up again")
    assert fake.texts(ANA) == ["up again"] and fake.faults_served["5xx_before"] == 3


async def test_a_fault_for_some_methods_spares_the_others(fake: FakeTelegram, bot: Bot) -> None:
    fake.fault("5xx_before", calls=2, methods={"sendDocument"})
    await bot.send_message(ANA, "text is fine")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_document(ANA, InputFile(b"x", filename="a.txt"))
    await bot.send_document(ANA, InputFile(b"x", filename="a.txt"))
    assert len(fake.sent(ANA)) == 2


async def test_clear_faults_ends_an_open_ended_fault(fake: FakeTelegram, bot: Bot) -> None:
    fake.fault("5xx_after")
    for _ in range(3):
        with pytest.raises(NetworkError):
            await bot.send_message(ANA, "stored, answer lost")
    fake.clear_faults()
    await bot.send_message(ANA, "answered")
    assert len(fake.sent(ANA)) == 4 and fake.faults_served["5xx_after"] == 3


async def test_refuse_closes_the_port_then_listens_again_on_it(
    fake: FakeTelegram, bot: Bot
) -> None:
    url = fake.url
    fake.fault("refuse", seconds=0.5)
    with pytest.raises(NetworkError) as refused:
        await bot.send_message(ANA, "nobody listens")
    assert isinstance(refused.value.__cause__, httpx.ConnectError)
    await asyncio.sleep(0.6)
    await bot.send_message(ANA, "listening again")
    assert fake.url == url and fake.texts(ANA) == ["listening again"]
    assert fake.faults_served["refuse"] == 1


async def test_refuse_ends_with_clear_faults(fake: FakeTelegram, bot: Bot) -> None:
    fake.fault("refuse", seconds=30)
    with pytest.raises(NetworkError):
        await bot.get_me()
    fake.clear_faults()
    await bot.get_me()


async def test_faults_are_checked_when_scheduled(fake: FakeTelegram) -> None:
    with pytest.raises(ValueError):
        fake.fault("meteor")
    with pytest.raises(ValueError):
        fake.fault("refuse", calls=1)


# --- permanent rejection ----------------------------------------------------------------


async def test_reject_always_refuses_every_send_to_that_chat(fake: FakeTelegram, bot: Bot) -> None:
    fake.reject_always(ANA)
    for _ in range(2):
        with pytest.raises(BadRequest) as refused:
            await bot.send_message(ANA, "plain words")
        assert "can't parse entities" in refused.value.message.lower()
    with pytest.raises(BadRequest):
        await bot.send_document(ANA, InputFile(b"x", filename="a.txt"))
    await bot.send_message(BEN, "others are fine")
    assert fake.sent(ANA) == [] and fake.texts(BEN) == ["others are fine"]


async def test_reject_always_with_another_status(fake: FakeTelegram, bot: Bot) -> None:
    fake.reject_always(ANA, "Forbidden: bot was blocked by the user", status=403)
    with pytest.raises(Forbidden):
        await bot.send_message(ANA, "hello")


# --- size and markup limits -------------------------------------------------------------


async def _refusal(send: Awaitable[object]) -> str:
    """Telegram's reason for refusing a send, as python-telegram-bot reports it (lower case)."""
    with pytest.raises(BadRequest) as refused:
        await send
    return refused.value.message.lower()


async def test_text_is_limited_to_4096_characters(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(ANA, "é" * 4096)
    assert await _refusal(bot.send_message(ANA, "é" * 4097)) == "message is too long"
    assert len(fake.sent(ANA)) == 1


async def test_the_limit_counts_text_after_html_parsing(fake: FakeTelegram, bot: Bot) -> None:
    html = ParseMode.HTML
    await bot.send_message(ANA, "<b>" + "x" * 4096 + "</b>", parse_mode=html)
    await bot.send_message(ANA, "&amp;" * 4096, parse_mode=html)
    await bot.send_message(ANA, "&amp;" * 800)  # no parse mode: 4,000 characters as they are
    too_long_raw = bot.send_message(ANA, "&amp;" * 820)  # 4,100 characters
    assert await _refusal(too_long_raw) == "message is too long"
    too_long = bot.send_message(ANA, "&lt;" * 4097, parse_mode=html)
    assert await _refusal(too_long) == "message is too long"
    assert len(fake.sent(ANA)) == 3


async def test_empty_text_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    assert await _refusal(bot.send_message(ANA, "")) == "message text is empty"
    assert await _refusal(bot.send_message(ANA, " \n ")) == "message text is empty"
    empty_html = bot.send_message(ANA, "<b></b>", parse_mode=ParseMode.HTML)
    assert await _refusal(empty_html) == "message text is empty"
    assert fake.sent(ANA) == []


async def test_a_caption_is_limited_to_1024_characters(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_document(ANA, InputFile(b"x", filename="a.txt"), caption="c" * 1024)
    too_long = bot.send_document(ANA, InputFile(b"x", filename="a.txt"), caption="c" * 1025)
    assert await _refusal(too_long) == "message caption is too long"
    await bot.send_document(ANA, InputFile(b"x", filename="a.txt"))  # no caption is fine
    assert len(fake.sent(ANA)) == 2


async def test_telegrams_html_subset_is_accepted(fake: FakeTelegram, bot: Bot) -> None:
    text = (
        "<b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>n</ins> <s>s</s> "
        '<strike>k</strike> <del>d</del> <span class="tg-spoiler">p</span> '
        '<tg-spoiler>t</tg-spoiler> <a href="https://example.org/?a=1&amp;b=2">a</a> '
        '<code>c</code> <pre><code class="language-python">x = 1</code></pre> '
        "<blockquote expandable>q</blockquote> "
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        "5 &lt; 6 &amp;&amp; 7 &gt; 6 &quot;&#33;&#x21; &nbsp; AT&T"
    )
    await bot.send_message(ANA, text, parse_mode=ParseMode.HTML)
    assert fake.texts(ANA) == [text]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<b>never closed", 'can\'t find end tag corresponding to start tag "b"'),
        ("<blink>old</blink>", 'unsupported start tag "blink" at byte offset 0'),
        ("é <p>x</p>", 'unsupported start tag "p" at byte offset 3'),
        ("5 < 6", 'unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "unclosed start tag at byte offset 0"),
    ],
)
async def test_malformed_html_cannot_be_parsed(
    fake: FakeTelegram, bot: Bot, text: str, why: str
) -> None:
    refusal = await _refusal(bot.send_message(ANA, text, parse_mode=ParseMode.HTML))
    assert refusal == f"can't parse entities: {why}"
    await bot.send_message(ANA, text)  # without a parse mode it is only text
    assert fake.texts(ANA) == [text]


async def test_a_malformed_html_caption_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    document = InputFile(b"x", filename="a.txt")
    send = bot.send_document(ANA, document, caption="<x>", parse_mode=ParseMode.HTML)
    assert (await _refusal(send)).startswith("can't parse entities: unsupported start tag")
    assert fake.sent(ANA) == []


async def test_callback_data_is_limited_to_64_bytes(fake: FakeTelegram, bot: Bot) -> None:
    def markup(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data=data)]])

    await bot.send_message(ANA, "fits", reply_markup=markup("é" * 32))  # 64 bytes
    too_long = bot.send_message(ANA, "too long", reply_markup=markup("é" * 32 + "x"))
    assert await _refusal(too_long) == "button_data_invalid"
    assert fake.texts(ANA) == ["fits"]
    assert json.loads(fake.sent(ANA)[0]["reply_markup"])["inline_keyboard"][0][0][
        "callback_data"
    ] == ("é" * 32)


# --- one poller only --------------------------------------------------------------------


async def test_a_newer_poll_ends_the_waiting_one_with_409(fake: FakeTelegram, bot: Bot) -> None:
    fake.long_poll_cap = 5.0
    second = _bot(fake)
    await second.initialize()
    try:
        waiting = asyncio.create_task(bot.get_updates(timeout=5))
        await fake.wait_for(lambda: any(c.method == "getUpdates" for c in fake.calls))
        started = time.monotonic()
        newer = asyncio.create_task(second.get_updates(timeout=1))
        with pytest.raises(Conflict) as ended:
            await waiting
        assert time.monotonic() - started < 1.0  # at once, not at the end of its poll
        assert "terminated by other getUpdates request" in ended.value.message
        fake.message(ANA, "Ana", "hello")
        (update,) = await newer
        assert update.message is not None and update.message.text == "hello"
        assert fake.conflicts == 1
    finally:
        await second.shutdown()


async def test_polls_one_after_another_do_not_conflict(fake: FakeTelegram, bot: Bot) -> None:
    for _ in range(3):
        assert await bot.get_updates(timeout=0.1) == ()
    assert fake.conflicts == 0


async def test_no_polling_while_a_webhook_is_set(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("https://bot.example.org/telegram")
    with pytest.raises(Conflict) as refused:
        await bot.get_updates(timeout=0)
    assert "can't use getupdates method while webhook is active" in refused.value.message.lower()
    assert fake.webhook["url"] == "https://bot.example.org/telegram"
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()
    assert fake.conflicts == 1
