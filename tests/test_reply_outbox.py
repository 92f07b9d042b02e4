"""The reply outbox on its own: kept replies shared by two workers (as `troly serve --workers 2`
runs them, each with its own connections), each sent once and in each chat's order; a worker
that stopped mid-send leaves an uncertain message, never a repeated one. On a real SQLite file
and a real PostgreSQL, against the fake Telegram."""

import asyncio
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update

from bot.channels.telegram import TelegramSender
from bot.channels.telegram.sender import NO_RETRY
from bot.messages import Reply
from bot.reply_outbox import OutboxSettings, ReplyOutbox
from storage.db import Database
from storage.models import PendingReply
from tests.fake_telegram import Failure, FakeTelegram

CHATS, PER_CHAT = 12, 4
QUICK = OutboxSettings(first_delay=0.05, max_delay=0.1)


def sender_for(telegram: FakeTelegram) -> TelegramSender:
    from telegram import Bot

    return TelegramSender(Bot(telegram.token, base_url=telegram.base_url), NO_RETRY, owns_bot=True)


async def unfinished(database: Database) -> int:
    async with database.session() as session:
        rows = await session.execute(
            select(PendingReply.id).where(PendingReply.state.in_(("pending", "sending")))
        )
        return len(rows.all())


async def step_until_done(database: Database, *outboxes: ReplyOutbox, steps: int = 100) -> None:
    """Let the workers take turns (as their loops would) until no kept reply is left."""
    for _ in range(steps):
        await asyncio.gather(*(outbox.step() for outbox in outboxes))
        if await unfinished(database) == 0:
            return
        await asyncio.sleep(0.02)


async def test_two_workers_send_each_kept_reply_once_and_in_order(database: Database) -> None:
    second_process = Database(database.url)  # its own pool, as another worker process has
    async with FakeTelegram() as telegram:
        senders = [sender_for(telegram), sender_for(telegram)]
        # A few chats per claim, so neither worker can take the whole table in one step.
        few = replace(QUICK, batch=3)
        first = ReplyOutbox(database, {"telegram": senders[0]}, settings=few)
        other = ReplyOutbox(second_process, {"telegram": senders[1]}, settings=few)
        try:
            telegram.outage = Failure.server_error(500)
            for n in range(PER_CHAT):  # the first of each chat fails; the rest queue behind it
                for chat in range(CHATS):
                    outbox = (first, other)[chat % 2]
                    sent = await outbox.send(senders[0], str(1000 + chat), [Reply(f"{chat}.{n}")])
                    assert sent == []
            assert await unfinished(database) == CHATS * PER_CHAT
            telegram.outage = None
            await step_until_done(database, first, other, steps=400)
        finally:
            for sender in senders:
                await sender.close()
            await second_process.close()
    received: dict[int, list[str]] = defaultdict(list)
    for call in telegram.calls_to("sendMessage"):
        received[call.chat_id].append(call.params["text"])
    for chat in range(CHATS):
        assert received[1000 + chat] == [f"{chat}.{n}" for n in range(PER_CHAT)], chat
    async with database.session() as session:
        workers = set((await session.execute(select(PendingReply.worker))).scalars())
    assert workers == {first.worker, other.worker}, "both workers took part"


async def test_a_reply_left_mid_send_by_a_stopped_worker_is_uncertain_not_repeated(
    database: Database,
) -> None:
    async with FakeTelegram() as telegram:
        sender = sender_for(telegram)
        outbox = ReplyOutbox(database, {"telegram": sender}, settings=QUICK)
        try:
            telegram.outage = Failure.server_error(500)
            replies = [Reply("một"), Reply("hai"), Reply("ba")]
            assert await outbox.send(sender, "2001", replies) == []
            telegram.outage = None
            # A worker on another host claimed it and was never heard of again.
            async with database.session() as session, session.begin():
                gone = outbox.clock() - timedelta(hours=1)
                await session.execute(
                    update(PendingReply).values(state="sending", worker="elsewhere:1:x",
                                                claimed_at=gone)
                )  # fmt: skip
            await step_until_done(database, outbox)
        finally:
            await sender.close()
    assert [c.params["text"] for c in telegram.calls_to("sendMessage")] == ["hai", "ba"]
    async with database.session() as session:
        (row,) = (await session.execute(select(PendingReply))).scalars()
    assert (row.state, row.uncertain) == ("sent", 1)


async def test_a_kept_reply_to_someone_who_blocked_the_bot_meanwhile_is_dropped(
    database: Database,
) -> None:
    from storage.models import Contact
    from tests.test_campaigns import add_contacts

    await add_contacts(database, 1, first=3001)
    async with FakeTelegram() as telegram:
        sender = sender_for(telegram)
        outbox = ReplyOutbox(database, {"telegram": sender}, settings=QUICK)
        try:
            telegram.outage = Failure.server_error(500)
            await outbox.send(sender, "3001", [Reply("Xin chào")])
            telegram.outage = None
            telegram.fail("sendMessage", Failure.blocked())
            await step_until_done(database, outbox)
        finally:
            await sender.close()
    assert telegram.calls_to("sendMessage") == []
    async with database.session() as session:
        (row,) = (await session.execute(select(PendingReply))).scalars()
        unreachable = (await session.execute(
            select(Contact.unreachable).where(Contact.chat_id == "3001")
        )).scalar_one()  # fmt: skip
    assert row.state == "failed" and unreachable
