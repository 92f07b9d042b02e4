"""Turn, the one argument every handler receives, and the Router that features register on.

Features (handlers/) register handlers and hooks here; the engine runs them without importing
any feature. Messages for other chats (the staff room, a citizen answered by staff) are queued on
the turn as `Outbound` and sent only after the turn's transaction has committed."""

import importlib
import pkgutil
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import Sender
from bot.library import Library
from bot.matcher import Matcher, normalize
from bot.messages import Button, Incoming, Reply
from bot.outbound import Outbound
from bot.settings import Settings
from storage.models import Conversation, SupportSession

Replies = list[Reply]
Handler = Callable[..., Awaitable[Replies]]
ModeHandler = Callable[["Turn"], Awaitable[Replies | None]]
# Before the handler: replies end the turn there (the staff room answers for itself).
BeforeHook = Callable[["Turn"], Awaitable[Replies | None]]
# After the handler: may add to the replies (a rating question, a privacy warning).
AfterHook = Callable[["Turn", Replies], Awaitable[Replies]]


@dataclass
class Turn:
    """One incoming message with everything a handler may read or change."""

    incoming: Incoming
    state: Conversation
    library: Library
    matcher: Matcher
    session: AsyncSession
    now: datetime
    referral: str | None = None
    log: dict[str, Any] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    # Senders of every configured channel: which chats can be written to at all.
    senders: dict[str, Sender] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()  # kinds of secrets redacted from this message
    outbound: list[Outbound] = field(default_factory=list)  # sent after the commit
    # An answer kept elsewhere (a survey's own tables): the message log says only that it came.
    private: bool = False
    # The conversation's current support session, read with the state (handlers/sessions.py).
    support_session: SupportSession | None = None

    def send_later(self, message: Outbound) -> None:
        """Queue a message for another chat: it leaves once this turn is committed, once."""
        self.outbound.append(message)

    def note(self, handler: str, **fields: Any) -> None:
        """Say what this turn did, for the event log: guide_id, step, outcome."""
        self.log = {"handler": handler, **fields}

    def text(self, key: str, **values: object) -> str:
        return self.library.text(key, **values)

    def button(self, key: str, action: str) -> Button:
        return Button(self.library.text(key), action=action)


class Router:
    def __init__(self) -> None:
        self.actions: dict[str, Handler] = {}
        self.commands: dict[str, Handler] = {}
        self.patterns: list[tuple[re.Pattern[str], Handler]] = []
        self.modes: dict[str, ModeHandler] = {}
        self.fallback: Handler | None = None
        self.media: Handler | None = None
        self.before: list[BeforeHook] = []
        self.after: list[AfterHook] = []

    def before_turn(self, hook: BeforeHook) -> BeforeHook:
        self.before.append(hook)
        return hook

    def after_turn(self, hook: AfterHook) -> AfterHook:
        self.after.append(hook)
        return hook

    def on_action(self, prefix: str) -> Callable[[Handler], Handler]:
        """Button payloads `prefix` or `prefix:arg:arg`; the args reach the handler as strings."""

        def register(handler: Handler) -> Handler:
            self.actions[prefix] = handler
            return handler

        return register

    def on_command(self, *words: str) -> Callable[[Handler], Handler]:
        """Whole messages such as '/start' or 'menu', compared after normalisation ('/' dropped)."""

        def register(handler: Handler) -> Handler:
            for word in words:
                self.commands[normalize(word)] = handler
            return handler

        return register

    def on_pattern(self, pattern: str) -> Callable[[Handler], Handler]:
        """A regular expression over the raw text; its groups reach the handler."""

        def register(handler: Handler) -> Handler:
            self.patterns.append((re.compile(pattern), handler))
            return handler

        return register

    def on_mode(self, mode: str) -> Callable[[ModeHandler], ModeHandler]:
        """Text while the conversation is in `mode`; return None to let search have it."""

        def register(handler: ModeHandler) -> ModeHandler:
            self.modes[mode] = handler
            return handler

        return register

    def on_search(self, handler: Handler) -> Handler:
        self.fallback = handler
        return handler

    def on_media(self, handler: Handler) -> Handler:
        self.media = handler
        return handler


router = Router()

# The package whose every module is a feature that registers its handlers and hooks on `router`.
# Found by name, as the channels are found in bot/channels/: the core never names a feature.
FEATURES = "handlers"


def load_features(package: str = FEATURES) -> Router:
    """Import every module of the features package; a new feature is a new file there."""
    features = importlib.import_module(package)
    for module in pkgutil.iter_modules(features.__path__):
        importlib.import_module(f"{package}.{module.name}")
    return router
