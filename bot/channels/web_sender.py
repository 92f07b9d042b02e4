"""The web chat's Sender: messages nobody asked for (staff answers) wait for the page.

A web-chat page has no address to send to, so a message for it is a row in `webchatmessage`;
the page reads it live (`GET /api/chat/events`) or later (`GET /api/chat/history`), both served
by the console's live hub (bot/console/webchat.py). Rows older than KEEP_DAYS are dropped.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from bot.channels.web import render
from bot.messages import Reply
from storage.db import Database
from storage.models import WebChatMessage

CHANNEL = "web"
KEEP_DAYS = 30


async def store(database: Database, chat_id: str, replies: Sequence[Reply]) -> list[str]:
    """Keep the messages for the page (its own transaction); return their ids."""
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        await session.execute(
            delete(WebChatMessage).where(WebChatMessage.at < now - timedelta(days=KEEP_DAYS))
        )
        rows = [
            WebChatMessage(chat_id=chat_id, at=now, payload={**render(r), "from": "staff"})
            for r in replies
        ]
        session.add_all(rows)
        await session.flush()
        return [str(row.id) for row in rows]


class WebChatSender:
    """The web chat as a Sender (bot/delivery.py): answers wait in the database for the page.

    It writes to the database, so callers must not hold a write transaction of their own
    (SQLite would wait for itself): everything sends after the commit (bot/outbound.py).
    """

    channel = CHANNEL

    def __init__(self, database: Database, owns_database: bool = False):
        self.database, self.owns_database = database, owns_database
        # Called after each store: the console's live hub looks at once instead of next tick.
        self.stored: Callable[[], None] | None = None

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> list[str]:
        ids = await store(self.database, chat_id, replies)
        if self.stored is not None:
            self.stored()
        return ids

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()
