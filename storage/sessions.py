"""Queries of support sessions: opening one, the guides it went through, erasing a contact."""

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, case, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_of, upsert_insert
from storage.models import (
    Contact,
    Conversation,
    Handoff,
    MessageEvent,
    SessionGuide,
    SupportSession,
    Ticket,
    WebChatMessage,
)
from storage.models.delivery import WEB_CHAT


def new_session(
    channel: str, contact_ref: str, now: datetime, referral: str | None
) -> SupportSession:
    """A session not written yet: open_session writes it with what its first turn did."""
    return SupportSession(
        channel=channel, contact_ref=contact_ref, started_at=now, ended_at=now, referral=referral
    )


async def open_session(session: AsyncSession, row: SupportSession) -> SupportSession:
    session.add(row)
    await session.flush()  # the id goes into the conversation state
    return row


async def get_session(session: AsyncSession, session_id: object) -> SupportSession | None:
    if not isinstance(session_id, int):
        return None
    return await session.get(SupportSession, session_id)


@cache
def _guides_upsert(dialect: str) -> Any:
    """Built once (issue 17); a step already written further stays, finished stays finished."""
    statement = upsert_insert(dialect, SessionGuide.__table__)
    table, excluded = SessionGuide.__table__, statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["session_id", "guide_id"],
        set_={
            "furthest_step": _greatest(table.c.furthest_step, excluded.furthest_step),
            "finished": table.c.finished | excluded.finished,
        },
    )


async def record_guides(
    session: AsyncSession, session_id: int, guides: list[tuple[str, int, bool]]
) -> None:
    """Remember the furthest step reached in each (guide, step, finished), in one statement."""
    if guides:
        rows = [
            {"session_id": session_id, "guide_id": guide_id, "furthest_step": step,
             "finished": finished}
            for guide_id, step, finished in guides
        ]  # fmt: skip
        await session.execute(_guides_upsert(dialect_of(session)), rows)


def _greatest(left: ColumnElement, right: ColumnElement) -> ColumnElement:
    return case((right > left, right), else_=left)


async def anonymise_sessions(session: AsyncSession, contact_ref: str) -> None:
    """Keep the counts a report needs; drop what links a session to a person or their words."""
    await session.execute(
        update(SupportSession)
        .where(SupportSession.contact_ref == contact_ref)
        .values(contact_ref=None, comment=None)
    )


ERASED_TEXT = "[***]"  # what is left of a ticket the person erased: its number and dates


async def erase_person(session: AsyncSession, channel: str, chat_id: str, contact_ref: str) -> None:
    """Everything that names one contact goes; anonymous counts for the reports stay."""
    await session.execute(
        delete(MessageEvent).where(MessageEvent.channel == channel, MessageEvent.chat_id == chat_id)
    )
    await session.execute(
        delete(Conversation).where(Conversation.channel == channel, Conversation.chat_id == chat_id)
    )
    await session.execute(
        delete(Contact).where(Contact.channel == channel, Contact.chat_id == chat_id)
    )
    if channel == WEB_CHAT:  # staff answers kept for the person's web-chat page
        await session.execute(delete(WebChatMessage).where(WebChatMessage.chat_id == chat_id))
    await session.execute(
        update(Handoff)
        .where(Handoff.channel == channel, Handoff.chat_id == chat_id)
        .values(chat_id=None, question=None)
    )
    await session.execute(
        update(Ticket)
        .where(Ticket.channel == channel, Ticket.chat_id == chat_id)
        .values(chat_id=None, reply_contact=None, content=ERASED_TEXT, answer=None)
    )
    await anonymise_sessions(session, contact_ref)


async def forget_old_text(session: AsyncSession, before: datetime) -> int:
    """Delete the raw text of messages older than `before`; the counts stay. Returns rows."""
    result = await session.execute(
        update(MessageEvent)
        .where(MessageEvent.at < before, MessageEvent.text.is_not(None))
        .values(text=None)
    )
    return result.rowcount or 0


async def open_handoff(
    session: AsyncSession, channel: str, chat_id: str, session_id: int | None, question: str,
    now: datetime,
) -> Handoff:  # fmt: skip
    handoff = Handoff(
        channel=channel, chat_id=chat_id, session_id=session_id, question=question, opened_at=now
    )
    session.add(handoff)
    await session.flush()
    return handoff


async def get_handoff(session: AsyncSession, handoff_id: object) -> Handoff | None:
    if not isinstance(handoff_id, int):
        return None
    return await session.get(Handoff, handoff_id)


async def mark_first_response(session: AsyncSession, handoff_id: int | None, now: datetime) -> None:
    """The first staff answer that reached the citizen: the figure reports measure."""
    handoff = await session.get(Handoff, handoff_id) if handoff_id is not None else None
    if handoff is not None and handoff.first_response_at is None:
        handoff.first_response_at = now
