"""Messages to other chats, sent after the turn that caused them has committed.

A staff post sent inside a database transaction is sent again when the transaction is retried,
and a slow platform holds the database meanwhile. So handlers queue an `Outbound` on the turn;
the engine delivers the queue once the commit succeeded, exactly once, and records what the
platform answered (the post's ids, so staff replies find their thread) in a transaction of its
own. When a message cannot be delivered, `failed` says whom to tell and how.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import DeliveryError, Sender
from bot.logs import chat_ref
from bot.messages import Reply
from storage.db import Database

log = logging.getLogger(__name__)

AfterSent = Callable[[AsyncSession, list[str]], Awaitable[None]]


@dataclass(frozen=True)
class Outbound:
    channel: str
    chat_id: str
    replies: Sequence[Reply]
    then: AfterSent | None = None  # runs after delivery with the platform's message ids
    failed: "Callable[[str], Outbound | None] | None" = None  # reason -> a notice to send


async def deliver(
    messages: Sequence[Outbound], senders: Mapping[str, Sender], database: Database
) -> None:
    """Send each message; failures are logged and reported, never raised into the turn."""
    for message in messages:
        ids, problem = await send_now(message, senders)
        if problem is None and message.then is not None:
            try:
                async with database.session() as session, session.begin():
                    await message.then(session, ids)
            except Exception:
                log.exception("recording a message sent to %s failed", _where(message))
        if problem is not None and message.failed is not None:
            notice = message.failed(problem)
            if notice is not None:
                await send_now(notice, senders)


async def send_now(
    message: Outbound, senders: Mapping[str, Sender]
) -> tuple[list[str], str | None]:
    """(the platform's ids, None) when sent, else ([], why not)."""
    sender = senders.get(message.channel)
    if sender is None:
        return [], "no_sender"
    try:
        return await sender.send(message.chat_id, message.replies), None
    except DeliveryError as error:
        log.warning("could not send to %s: %s", _where(message), error)
        return [], type(error).__name__


def _where(message: Outbound) -> str:
    return chat_ref(message.channel, message.chat_id)
