"""Queries of console accounts, their browser sessions and failed logins."""

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.models import ConsoleAccount, ConsoleSession, LoginFailure, StaffMember

ADMIN, STAFF, VOLUNTEER = "admin", "staff", "volunteer"
ROLES = (ADMIN, STAFF, VOLUNTEER)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def account_by_login(session: AsyncSession, login: str) -> ConsoleAccount | None:
    result = await session.execute(
        select(ConsoleAccount).where(ConsoleAccount.login == login.strip().lower())
    )
    return result.scalar_one_or_none()


async def create_account(
    session: AsyncSession,
    *,
    name: str,
    login: str,
    role: str,
    password_hash: str,
    now: datetime,
    member: StaffMember | None = None,
) -> ConsoleAccount:
    """A new login; the staff member it belongs to is created when not given."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if await account_by_login(session, login) is not None:
        raise ValueError(f"login {login!r} exists already")
    if member is None:
        member = StaffMember(
            name=name, role=VOLUNTEER if role == VOLUNTEER else STAFF, created_at=now
        )
        session.add(member)
        await session.flush()
    account = ConsoleAccount(
        staff_id=member.id or 0,
        login=login.strip().lower(),
        password_hash=password_hash,
        role=role,
        created_at=now,
        password_changed_at=now,
    )
    session.add(account)
    await session.flush()
    return account


async def set_password(session: AsyncSession, account: ConsoleAccount, password_hash: str,
                       now: datetime) -> None:  # fmt: skip
    """A new password ends every session of the account."""
    account.password_hash = password_hash
    account.password_changed_at = now
    await end_sessions(session, account.id or 0)


async def end_sessions(session: AsyncSession, account_id: int) -> None:
    await session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == account_id))


async def console_staff_exists(session: AsyncSession) -> bool:
    """True when somebody can answer hand-offs in the console."""
    result = await session.execute(
        select(ConsoleAccount.id)
        .where(ConsoleAccount.disabled.is_(False), ConsoleAccount.role.in_((ADMIN, STAFF)))
        .limit(1)
    )
    return result.first() is not None


async def name_of(session: AsyncSession, account: ConsoleAccount) -> str:
    member = await session.get(StaffMember, account.staff_id)
    return member.name if member else account.login


async def open_session(session: AsyncSession, account: ConsoleAccount, token: str, csrf: str,
                       now: datetime) -> None:  # fmt: skip
    session.add(
        ConsoleSession(
            token_hash=token_hash(token),
            account_id=account.id or 0,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    await session.flush()


async def live_session(
    session: AsyncSession, token: str, now: datetime, idle: timedelta
) -> tuple[ConsoleSession, ConsoleAccount, str] | None:
    """The session behind a cookie, its account and the person's name, in one query; None when
    expired (then deleted) or the account is disabled."""
    row = (
        await session.execute(
            select(ConsoleSession, ConsoleAccount, StaffMember.name)
            .join(ConsoleAccount, ConsoleAccount.id == ConsoleSession.account_id)
            .outerjoin(StaffMember, StaffMember.id == ConsoleAccount.staff_id)
            .where(ConsoleSession.token_hash == token_hash(token))
        )
    ).first()
    if row is None:
        return None
    found, account, name = row
    if now - found.last_seen_at > idle:
        await session.delete(found)
        return None
    if account.disabled:
        return None
    return found, account, name or account.login


async def purge_sessions(session: AsyncSession, idle_before: datetime) -> None:
    """Sessions nobody used since then are gone for good (they expire on use anyway)."""
    await session.execute(delete(ConsoleSession).where(ConsoleSession.last_seen_at < idle_before))


async def close_session(session: AsyncSession, token: str) -> None:
    hashed = token_hash(token)
    await session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == hashed))


async def record_failure(session: AsyncSession, login: str, address: str, now: datetime) -> None:
    session.add(LoginFailure(at=now, login=login.strip().lower()[:64], address=address[:64]))
    await session.flush()


async def recent_failures(
    session: AsyncSession, login: str, address: str, since: datetime
) -> tuple[int, datetime | None]:
    """How many wrong passwords since `since` for this login or from this address, and the last."""
    result = await session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.at >= since,
            or_(LoginFailure.login == login.strip().lower()[:64], LoginFailure.address == address),
        )
    )
    count, last = result.one()
    return int(count or 0), last


async def clear_failures(session: AsyncSession, login: str, before: datetime) -> None:
    """A right password forgets the login's failures; old rows of anybody are dropped too."""
    await session.execute(
        delete(LoginFailure).where(
            or_(LoginFailure.login == login.strip().lower()[:64], LoginFailure.at < before)
        )
    )


async def list_accounts(session: AsyncSession) -> list[tuple[ConsoleAccount, str]]:
    result = await session.execute(
        select(ConsoleAccount, StaffMember.name)
        .join(StaffMember, StaffMember.id == ConsoleAccount.staff_id)
        .order_by(ConsoleAccount.role, ConsoleAccount.login)
    )
    return [(account, name) for account, name in result.all()]


async def account_of_member(session: AsyncSession, staff_id: int | None) -> ConsoleAccount | None:
    """The active console login of a staff member who also answers in the staff room."""
    if staff_id is None:
        return None
    found = await session.execute(
        select(ConsoleAccount).where(
            ConsoleAccount.staff_id == staff_id, ConsoleAccount.disabled.is_(False)
        )
    )
    return found.scalars().first()
