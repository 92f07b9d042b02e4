"""Sending without an incoming message (hand-off answers, ticket notices, campaigns).

Every channel that can send on its own offers a `make_sender(settings)` returning a Sender,
or None when it is not configured. Callers handle the three ways a send can fail.
"""

from collections.abc import Sequence
from typing import Protocol

from bot.messages import Reply
from bot.settings import Settings


class DeliveryError(Exception):
    """A send that did not happen."""

    # Which of the turn's platform messages failed: the ones before it were delivered. Senders
    # set it, so a kept turn (bot/reply_outbox.py) goes on from there instead of repeating.
    sent: int = 0


class Unreachable(DeliveryError):
    """Never retry: the person blocked the bot, unfollowed, or is outside the platform's window."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason  # "blocked", "unfollowed", "outside_window", "not_found"
        super().__init__(f"{reason}: {detail}" if detail else reason)


class RateLimited(DeliveryError):
    """Try again after `retry_after` seconds."""

    def __init__(self, retry_after: float, detail: str = ""):
        self.retry_after = retry_after
        super().__init__(f"rate limited for {retry_after}s {detail}".strip())


class TemporaryFailure(DeliveryError):
    """Network trouble or a server error: worth retrying with backoff."""


class MaybeDelivered(TemporaryFailure):
    """No answer in time: the platform may have delivered it. A broadcast must not resend."""


class Sender(Protocol):
    channel: str

    async def send(self, chat_id: str, replies: Sequence[Reply], skip: int = 0) -> list[str]:
        """Deliver the replies in order, leaving out the first `skip` platform messages (sent
        already); return the platform ids of the messages sent."""
        ...

    async def close(self) -> None: ...


def load_senders(settings: Settings) -> dict[str, Sender]:
    """A sender for every configured channel that can send on its own, keyed by channel name."""
    from bot.channels.base import sending_channels

    senders: dict[str, Sender] = {}
    for channel in sending_channels(settings):
        sender = channel.make_sender(settings)
        if sender is not None:
            senders[channel.name] = sender
    return senders
