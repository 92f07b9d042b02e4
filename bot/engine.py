"""Incoming -> hooks -> handler -> Replies, with conversation state and the event log in the
database; messages for other chats leave after the commit.

Features register handlers and hooks on a Router (bot/turn.py); the engine never imports them.
"""

import asyncio
import inspect
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot import actions
from bot.delivery import Sender
from bot.library import Library
from bot.links import parse_start_payload
from bot.logs import chat_ref
from bot.matcher import Matcher, normalize
from bot.messages import Button, Incoming, Read, Reply
from bot.outbound import Outbound, deliver
from bot.privacy import erased, screen
from bot.settings import Settings
from bot.turn import Replies, Router, Turn
from bot.turn import router as registered_handlers
from storage.conversations import (
    load_state,
    log_events,
    remember_answer,
    save_conversation,
    touch_contact,
)
from storage.db import Database
from storage.reach import mark_read

log = logging.getLogger(__name__)

# Within a burst of messages the contact row need not be rewritten every time.
CONTACT_TOUCH_INTERVAL = timedelta(minutes=5)
MAX_ATTEMPTS = 3  # a SQLite file locked longer than its busy timeout gets two more chances
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


class DatabaseUnavailable(Exception):
    """The database could not be reached for this turn: nothing of it was written."""


# What a database that is down, restarting or locked looks like from here.
DATABASE_DOWN = (OperationalError, InterfaceError, DBAPIError, OSError)


def _unavailable(error: BaseException) -> bool:
    """Trouble reaching the database, as opposed to a statement it refused (a bug)."""
    return not isinstance(error, IntegrityError | ProgrammingError | DataError)


class ChatLocks:
    """An asyncio lock per chat, kept only while somebody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: tuple[str, str]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class Engine:
    def __init__(
        self,
        library: Library,
        database: Database,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        router: Router | None = None,
        settings: Settings | None = None,
    ):
        self.library = library
        self.database = database
        self.clock = clock
        self.settings = settings or Settings()
        # Filled by the app with every configured channel's sender (hand-offs, notices).
        self.senders: dict[str, Sender] = {}
        self.router = router or registered_handlers
        if self.router.fallback is None:
            raise RuntimeError("no handlers registered: call bot.turn.load_features() first")
        self.matcher = Matcher.for_library(library)
        self._chat_locks = ChatLocks()

    def use_library(self, library: Library) -> None:
        """Answer from `library` from the next message on: the settings page changed the profile,
        and the bot says the new hotline without a restart."""
        self.matcher = Matcher.for_library(library)
        self.library = library

    async def handle(self, incoming: Incoming, *, keep_if_unavailable: bool = False) -> Replies:
        """Always answers: a failure anywhere ends in a polite fallback, logged with context.

        With `keep_if_unavailable`, a database that stays unavailable raises DatabaseUnavailable
        instead: a channel whose platform delivers again (on a non-2xx answer, or through the
        webhook inbox) keeps the message and answers it once the database is back.
        """
        # One turn at a time per chat: a second message typed before the first is answered
        # must see the state the first one leaves (hand-off mode, the next step).
        async with self._chat_locks.hold((incoming.channel, incoming.chat_id)):
            return await self._handle_in_order(incoming, keep_if_unavailable)

    async def record_read(self, read: Read) -> int:
        """A read receipt goes on the campaign messages it covers: no turn, no reply, no log of
        a citizen message. A database that is down raises (the channel's inbox keeps it)."""
        async with self.database.session() as session, session.begin():
            marked = await mark_read(
                session, read.channel, read.chat_id, read.at, read.until, read.message_ids
            )
        log.debug("%s read %d campaign message(s)", chat_ref(read.channel, read.chat_id), marked)
        return marked

    async def _handle_in_order(self, incoming: Incoming, keep_if_unavailable: bool) -> Replies:
        started = time.perf_counter()
        context = {
            "channel": incoming.channel,
            "chat": chat_ref(incoming.channel, incoming.chat_id),
        }
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                replies, outbound = await self._handle(incoming)
            except DATABASE_DOWN as error:
                if not _unavailable(error):
                    log.exception("turn failed for %s", context["chat"], extra=context)
                    break
                if attempt < MAX_ATTEMPTS:
                    continue
                if keep_if_unavailable:
                    log.warning("database unavailable: %s kept for later", context["chat"],
                                extra=context)  # fmt: skip
                    raise DatabaseUnavailable(str(error)) from error
                log.exception("database unavailable for %s", context["chat"], extra=context)
                break
            except Exception:
                log.exception("turn failed for %s", context["chat"], extra=context)
                break
            # Only a committed turn sends to other chats: a retried one never posts twice.
            await deliver(outbound, self.senders, self.database)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            log.info("turn %s %.1f ms", context["chat"], duration_ms,
                      extra={**context, "duration_ms": duration_ms})  # fmt: skip
            return replies
        return [self.fallback()]

    def fallback(self) -> Reply:
        return Reply(self.library.text("error_fallback"), (Button("🏠", action=actions.MENU),))

    async def _handle(self, incoming: Incoming) -> tuple[Replies, list[Outbound]]:
        now = self.clock()
        # Secrets people type are taken out before any handler, log or table sees the text.
        incoming, secrets = screen(incoming)
        async with self.database.one_writer, self.database.session() as session, session.begin():
            # One statement reads the state, its support session and any earlier answer to this
            # message id (issue 17: a turn's cost is mostly its round trips); the turn holds on
            # to the support session, so it is not read again.
            state, support_session, earlier = await load_state(
                session, incoming.channel, incoming.chat_id, now, incoming.message_id
            )
            if earlier is not None:  # a retry of a message already answered
                return [Reply.from_json(r) for r in earlier], []
            seen_recently = now - state.updated_at < CONTACT_TOUCH_INTERVAL
            turn = Turn(
                incoming, state, self.library, self.matcher, session, now,
                settings=self.settings, senders=self.senders, secrets=secrets,
                support_session=support_session,
            )  # fmt: skip
            try:
                replies = await self._dispatch(turn)
            except DBAPIError:
                raise  # the database's trouble, not the handler's: handle() decides
            except Exception:
                # The person's words stay out of the log: the action says where it failed.
                log.exception(
                    "handler failed on %s (action=%r)",
                    chat_ref(incoming.channel, incoming.chat_id),
                    (incoming.action or "")[:80],
                )
                turn.note("error", outcome="error")
                replies = [self.fallback()]
            if erased(turn):
                return replies, turn.outbound  # nothing of theirs is written back
            for hook in self.router.after:
                replies = await hook(turn, replies)
            # Remember what each numbered button meant so typing "2" presses the second one.
            state.choices = [b.action for r in replies for b in r.buttons]
            state.updated_at = now
            # A group chat (user_id says who spoke in it) is not a person: no contact, no campaigns.
            if incoming.user_id is None and (turn.referral or not seen_recently):
                await touch_contact(
                    session, incoming.channel, incoming.chat_id, now, turn.referral, incoming.name
                )
            await save_conversation(session, state)
            await self._log(session, turn, replies)
            if incoming.message_id:
                await remember_answer(
                    session, incoming.channel, incoming.chat_id, incoming.message_id,
                    [r.to_json() for r in replies], now,
                )  # fmt: skip
        return replies, turn.outbound

    async def _dispatch(self, turn: Turn) -> Replies:
        incoming, router = turn.incoming, self.router
        for hook in router.before:
            answered = await hook(turn)
            if answered is not None:
                return answered
        if incoming.referral:
            guide_id, source = parse_start_payload(incoming.referral)
            turn.referral = source
            if guide_id:
                return await self._run_action(turn, actions.guide_step(guide_id))
            return await router.commands[normalize("/start")](turn)
        if incoming.action:
            return await self._run_action(turn, incoming.action)
        if incoming.attachment and not incoming.text.strip() and router.media:
            return await router.media(turn)
        text = incoming.text
        choice = _CHOICE.match(text)
        if choice and 1 <= int(choice.group(1)) <= len(turn.state.choices):
            action = turn.state.choices[int(choice.group(1)) - 1]
            if action:
                return await self._run_action(turn, action)
        command = router.commands.get(normalize(text[:60]))
        if command:
            return await command(turn)
        for pattern, handler in router.patterns:
            found = pattern.match(text)
            if found:
                return await handler(turn, *found.groups())
        mode_handler = router.modes.get(turn.state.mode or "")
        if mode_handler:
            replies = await mode_handler(turn)
            if replies is not None:
                return replies
        assert router.fallback, "a search handler must be registered"
        return await router.fallback(turn)

    async def _run_action(self, turn: Turn, action: str) -> Replies:
        prefix, *args = action.split(":")
        handler = self.router.actions.get(prefix)
        try:
            if handler is None:
                raise TypeError(f"no handler for {prefix!r}")
            inspect.signature(handler).bind(turn, *args)
        except TypeError:
            # A forged or outdated payload: back to the menu, never an exception.
            log.info("unusable action payload %r", action[:80])
            return await self.router.actions[actions.MENU](turn)
        return await handler(turn, *args)

    async def _log(self, session: AsyncSession, turn: Turn, replies: Replies) -> None:
        incoming = turn.incoming
        common = {
            "at": turn.now,
            "channel": incoming.channel,
            "chat_id": incoming.chat_id,
            **{k: turn.log.get(k) for k in ("handler", "guide_id", "step", "outcome")},
        }
        typed = incoming.text or (f"[{incoming.attachment}]" if incoming.attachment else None)
        received = f"[{incoming.action}]" if incoming.action else typed
        sent = [r.text for r in replies]
        if turn.private:
            # Which question comes next tells which way a condition went: that is an answer too.
            received, sent = "[answer]", ["[question]" for _ in sent]
        events = [{**common, "direction": "in", "text": received}]
        events.extend({**common, "direction": "out", "text": text} for text in sent)
        await log_events(session, events)
