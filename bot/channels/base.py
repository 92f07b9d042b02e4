"""The Channel interface and its registry: every platform declares its facts in one place.

A channel is a module or package in bot/channels/ with a module attribute `channel`, an
instance of a `Channel` subclass. Campaigns, links, posters, the app, the CLI and `troly doctor`
ask the registry; nothing outside bot/channels/ names a platform. A subclass that forgets a
fact fails when its module is imported (at start-up), not later in production.
"""

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from aiohttp import web

    from bot.delivery import Sender
    from bot.doctor import Check
    from bot.messages import Reply
    from bot.settings import Settings
    from storage.db import Database

_UNSET: Any = object()


class ChannelSetupError(Exception):
    """A channel cannot start with its settings; the message says which one and what to do."""


@dataclass(frozen=True)
class Limits:
    text_chars: int  # longest text in one message; longer replies are split
    buttons: int  # per message; more choices become numbered text (0: the platform has none)
    button_label_chars: int


@dataclass(frozen=True)
class ShareLink:
    channel: str
    url: str  # opens the bot (and the guide, where the platform carries a payload)
    text_to_type: str | None = None  # where it cannot: what to type as a first message


@dataclass(frozen=True)
class Shown:
    """One message as the platform shows it: its text, the labels of the buttons under it (as
    the platform cuts them), an image."""

    text: str
    buttons: tuple[str, ...] = ()
    image: str | None = None


class Channel(ABC):
    """One platform. Class attributes are its facts; methods say how it runs."""

    name: ClassVar[str] = _UNSET  # the `channel` of Incoming, contacts and campaigns
    label: ClassVar[str] = _UNSET  # shown to staff: "Telegram", "Zalo OA"
    limits: ClassVar[Limits] = _UNSET
    # How long after a person's last message the platform lets us write to them (None: always).
    reply_window: ClassVar[timedelta | None] = _UNSET
    counts_utf16: ClassVar[bool] = False  # text length in UTF-16 units (an emoji counts twice)
    burst: ClassVar[int] = 1  # messages a campaign may send at once before the rate applies
    can_poll: ClassVar[bool] = False  # fetches updates itself (`troly serve --<name>-polling`)
    # It can write first (campaigns, notices); False: its sender only answers people who wrote
    # to it (the web chat keeps staff answers for a page that may never come back).
    starts_conversations: ClassVar[bool] = True
    # The platform tells the bot when a person read its messages (read receipts in webhooks).
    reports_reads: ClassVar[bool] = False
    cli_group: ClassVar[str | None] = None  # `troly <cli_group> ...`, see register_cli
    cli_help: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [
            fact for fact in ("name", "label", "limits", "reply_window")
            if getattr(cls, fact) is _UNSET
        ]  # fmt: skip
        if missing:
            raise TypeError(f"channel {cls.__name__} does not declare {', '.join(missing)}")
        # A flag without the method behind it would fail only when someone uses it.
        if cls.can_poll and cls.enable_polling is Channel.enable_polling:
            raise TypeError(f"channel {cls.__name__} declares can_poll but no enable_polling")
        if cls.cli_group is not None and cls.register_cli is Channel.register_cli:
            raise TypeError(f"channel {cls.__name__} declares cli_group but no register_cli")

    @abstractmethod
    def configured(self, settings: "Settings") -> bool:
        """Its settings are there: the channel runs."""

    @abstractmethod
    def rate(self, settings: "Settings") -> float:
        """Campaign messages per second (0: no limit; a broadcast needs a number)."""

    @abstractmethod
    def setup(self, app: "web.Application") -> None:
        """Mount its routes and background work on the app (only when configured)."""

    def make_sender(self, settings: "Settings") -> "Sender | None":
        """A Sender for messages that answer no incoming one; None: it cannot send on its own."""
        return None

    def share_link(
        self, profile: dict[str, Any], payload: str | None, typed: str | None
    ) -> ShareLink | None:
        """The link (and QR target) that opens the bot with a start `payload` (a guide or a
        survey, and who sent the person), or, where the platform cannot carry one, the chat
        with `typed`: what to type as a first message."""
        return None

    @abstractmethod
    def show(self, replies: "Sequence[Reply]") -> list[Shown]:
        """What a person sees for a turn's replies, through the channel's own rendering (its
        splitting, its button limits, numbered choices where it has no buttons): the console
        shows staff a guide exactly so."""

    def enable_polling(self, app: "web.Application") -> None:
        """Fetch updates itself instead of a webhook (`troly serve --poll <name>`)."""
        pollers = ", ".join(c.name for c in all_channels() if c.can_poll) or "none"
        raise ChannelSetupError(f"{self.name} has no polling mode (channels that poll: {pollers})")

    def staff_group(self) -> str | None:
        """The staff group its own settings name: the staff room when STAFF_ROOM is unset."""
        return None

    async def doctor(self, settings: "Settings", database: "Database") -> list["Check"]:
        return []

    def register_cli(self, group: Any) -> None:
        """Add its verbs to the Typer group `troly <cli_group> ...` (channels may share one)."""
        raise NotImplementedError(f"{self.name} declares cli_group but no verbs")


@cache
def all_channels() -> tuple[Channel, ...]:
    """Every channel in bot/channels/, in name order."""
    import bot.channels

    found = []
    for info in pkgutil.iter_modules(bot.channels.__path__):
        module = importlib.import_module(f"bot.channels.{info.name}")
        declared = getattr(module, "channel", None)
        if isinstance(declared, Channel):
            found.append(declared)
    return tuple(sorted(found, key=lambda c: c.name))


def get_channel(name: str) -> Channel | None:
    return next((c for c in all_channels() if c.name == name), None)


def label_of(name: str) -> str:
    """What staff and citizens call a channel ("Zalo OA"); the name itself if none is known."""
    channel = get_channel(name)
    return channel.label if channel is not None else name


def can_send(channel: Channel) -> bool:
    """It can write to a person who has not just written: campaigns, notices, staff answers."""
    return channel.starts_conversations and type(channel).make_sender is not Channel.make_sender


def default_staff_room() -> tuple[str, str] | None:
    """(channel, chat id) of the first staff group a channel's settings name; None: none does."""
    for channel in all_channels():
        group = channel.staff_group()
        if group is not None:
            return channel.name, group
    return None


def sending_channels(settings: "Settings") -> tuple[Channel, ...]:
    """Configured channels that can send on their own."""
    return tuple(c for c in all_channels() if c.configured(settings) and can_send(c))


def reading_channels() -> frozenset[str]:
    """The channels whose platform reports reads: elsewhere 'read' is unknown, not zero."""
    return frozenset(c.name for c in all_channels() if c.reports_reads)


def reply_windows() -> dict[str, timedelta | None]:
    return {c.name: c.reply_window for c in all_channels()}
