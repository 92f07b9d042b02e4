"""The console chat: lines in, replies out, buttons numbered so typing the number presses them."""

import asyncio
import sys
from typing import TextIO

from bot.engine import Engine
from bot.messages import Incoming, Reply


def render_numbered(replies: list[Reply]) -> str:
    """Plain text with every button numbered in order; the engine maps a typed number back."""
    lines: list[str] = []
    number = 0
    for reply in replies:
        lines.append(reply.text)
        if reply.image:
            lines.append(f"(ảnh: {reply.image})")
        for button in reply.buttons:
            number += 1
            target = button.url or button.phone
            lines.append(f"  {number}. {button.label}" + (f": {target}" if target else ""))
        lines.append("")
    return "\n".join(lines)


async def run_console(engine: Engine, chat_id: str, source: TextIO, out: TextIO) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, source.readline)
        if not line:
            break
        replies = await engine.handle(Incoming("console", chat_id, text=line.rstrip("\n")))
        out.write(render_numbered(replies) + "\n")
        out.flush()


def chat(engine: Engine, chat_id: str = "console") -> None:
    async def session() -> None:
        try:
            await run_console(engine, chat_id, sys.stdin, sys.stdout)
        finally:
            await engine.database.close()

    asyncio.run(session())
