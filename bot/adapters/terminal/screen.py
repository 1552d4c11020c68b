"""The terminal itself: what is printed, what is typed, and Ctrl-C.

A practice can arrive on schedule while the person is typing, and Ctrl-C or Ctrl-D must end
the chat at once rather than after the next Enter, so output, input and the interrupt are
each handled here instead of with `print`, `input` and KeyboardInterrupt.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO


class Screen:
    """The one writer to the terminal, which keeps the prompt where the person types.

    A message that arrives while the prompt is waiting (a practice sent on schedule) is
    printed over the prompt's line, and the prompt is drawn again below it. At a real
    terminal the line is erased first; a line half typed stays in the terminal's buffer and
    is sent as typed on Enter, though it is no longer shown.
    """

    def __init__(self, out: TextIO, interactive: bool) -> None:
        self.out = out
        self.interactive = interactive
        self.erase = interactive and out.isatty()
        self._prompt: str | None = None  # on screen, the cursor after it

    def ask(self, prompt: str) -> None:
        if self.interactive:
            self.out.write(prompt)
            self.out.flush()
            self._prompt = prompt

    def answered(self) -> None:
        """Enter was pressed: the cursor is at the start of a new line."""
        self._prompt = None

    def print(self, lines: Iterable[str]) -> None:
        prompt = self._leave_prompt()
        for line in lines:
            self.out.write(line + "\n")
        if prompt is not None:
            self.out.write(prompt)
            self._prompt = prompt
        self.out.flush()

    def close(self, line: str) -> None:
        """The last line, with no prompt after it."""
        self._leave_prompt()
        self.out.write(line + "\n")
        self.out.flush()

    def _leave_prompt(self) -> str | None:
        prompt, self._prompt = self._prompt, None
        if prompt is not None:
            self.out.write("\r\x1b[K" if self.erase else "\n")
        return prompt


class Lines:
    """The lines a person types, or a script pipes in, one at a time.

    Where the event loop can watch standard input (a terminal or a pipe, on Unix) the
    lines are read without a thread, so nothing is left blocked in `readline` when the chat
    ends: Ctrl-C exits at once instead of waiting for Enter. Elsewhere (a file, a StringIO,
    Windows) a worker thread reads them.
    """

    def __init__(self, stdin: TextIO, on_line: Callable[[], None]) -> None:
        self.stdin = stdin
        self.on_line = on_line
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._watched: tuple[asyncio.AbstractEventLoop, int] | None = None
        self._threaded = True
        encoding = getattr(stdin, "encoding", None) or "utf-8"
        # A byte that is not in the encoding (a paste from another one) becomes U+FFFD
        # instead of an error that would end the chat.
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._partial = ""

    @contextlib.contextmanager
    def watched(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        descriptor = self._watch(loop)
        if descriptor is None:
            yield  # not watchable: `next` reads in a thread
            return
        self._watched, self._threaded = (loop, descriptor), False
        try:
            yield
        finally:
            self._stop_watching()

    def _watch(self, loop: asyncio.AbstractEventLoop) -> int | None:
        """The descriptor now watched, or None where the loop cannot watch this input."""
        try:
            descriptor = self.stdin.fileno()
            loop.add_reader(descriptor, self._readable)
        except (io.UnsupportedOperation, OSError, NotImplementedError):
            return None
        return descriptor

    async def next(self) -> str | None:
        """The next line, or None at the end of input."""
        if self._threaded:
            line = await asyncio.to_thread(self.stdin.readline)
            return line or None
        return await self._queue.get()

    def _readable(self) -> None:
        assert self._watched is not None
        try:
            chunk = os.read(self._watched[1], 65536)
        except OSError:  # the terminal went away (EIO after a hang-up): the end of input
            chunk = b""
        if not chunk:
            self._stop_watching()
            rest = self._partial + self._decoder.decode(b"", final=True)
            if rest:
                self._queue.put_nowait(rest)
            self._queue.put_nowait(None)
            return
        *lines, self._partial = (self._partial + self._decoder.decode(chunk)).split("\n")
        for line in lines:
            self._queue.put_nowait(line + "\n")
        if lines:
            self.on_line()

    def _stop_watching(self) -> None:
        if self._watched is not None:
            loop, descriptor = self._watched
            loop.remove_reader(descriptor)
            self._watched = None


@contextlib.contextmanager
def on_interrupt(callback: Callable[[], None]) -> Iterator[None]:
    """Ctrl-C calls `callback` instead of raising KeyboardInterrupt somewhere mid-await."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, callback)
        caught = True
    except (NotImplementedError, RuntimeError):
        # Windows, or not the main thread: Ctrl-C raises KeyboardInterrupt, which the
        # `wholehearted` command turns into a quiet exit.
        caught = False
    try:
        yield
    finally:
        if caught:
            loop.remove_signal_handler(signal.SIGINT)
