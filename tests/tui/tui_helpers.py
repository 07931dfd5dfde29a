"""Helpers shared by the TUI tests."""

from __future__ import annotations

import asyncio
import time
import functools
from typing import Any, Callable, Coroutine

from textual.message import Message
from textual.pilot import Pilot
from textual.widget import Widget


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if pilot.app._exception is not None:  # the app crashed: no point in waiting
            raise pilot.app._exception
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        await pilot.pause(0.05)
        await asyncio.sleep(0.05)


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test with asyncio.run (no pytest-asyncio in this project).

    functools.wraps keeps the signature, so pytest still injects fixtures by name.
    """

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def widget_text(widget: Widget) -> str:
    """What a widget shows, as words joined by single spaces (wrapping does not matter)."""
    lines = widget.render_lines(widget.region.reset_offset)
    return " ".join(" ".join(line.text for line in lines).split())


class Posted(list):  # type: ignore[type-arg]
    """A `message_hook` that records each posted message once (bubbling delivers it again)."""

    def __call__(self, message: Message) -> None:
        if not any(m is message for m in self):
            self.append(message)
