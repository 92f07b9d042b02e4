"""The console's audit log: who opened, answered, exported or erased whose data."""

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.models import AuditEvent


async def audit(
    session: AsyncSession,
    *,
    now: datetime,
    account_id: int | None,
    actor: str,
    action: str,
    target: str = "",
    detail: str = "",
) -> None:
    session.add(
        AuditEvent(
            at=now,
            account_id=account_id,
            actor=actor[:120],
            action=action[:32],
            target=target[:64],
            detail=detail[:300],
        )
    )
    await session.flush()


async def latest(session: AsyncSession, limit: int = 200, action: str | None = None,
                 before_id: int | None = None) -> list[AuditEvent]:  # fmt: skip
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    return list((await session.execute(query)).scalars())


async def last_id(session: AsyncSession) -> int:
    return int((await session.execute(select(func.max(AuditEvent.id)))).scalar() or 0)
