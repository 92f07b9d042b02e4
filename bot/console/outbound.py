"""Sending to a citizen from the console, and the platforms' reply windows, both as the
channels declare them (bot/channels/base.py). Always called after the database commit:
nothing here runs inside a transaction.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.app import SENDERS, SETTINGS
from bot.channels.base import get_channel
from bot.delivery import DeliveryError, RateLimited, Unreachable
from bot.logs import chat_ref
from bot.messages import Reply

log = logging.getLogger(__name__)

Config = Mapping[Any, Any]  # the app, or a request's config_dict (the console is a sub-app)


def reply_window(channel: str) -> timedelta | None:
    """How long after a citizen's last message the platform lets us write (None: always)."""
    declared = get_channel(channel)
    return declared.reply_window if declared is not None else None


def window_closed(channel: str, last_seen: datetime | None, now: datetime) -> bool:
    window = reply_window(channel)
    return window is not None and (last_seen is None or now - last_seen > window)


async def send_to_contact(
    app: Config, channel: str, chat_id: str | None, replies: Sequence[Reply]
) -> str | None:
    """Deliver to a citizen on their channel. None when sent; otherwise a short reason:
    "erased", "no_sender", "blocked" (and other Unreachable reasons), "rate_limited", "failed".
    """
    if chat_id is None:
        return "erased"
    sender = app[SENDERS].get(channel)
    if sender is None:
        return "no_sender"
    try:
        await sender.send(chat_id, list(replies))
    except Unreachable as error:
        log.info("console: %s unreachable: %s", chat_ref(channel, chat_id), error)
        return error.reason
    except RateLimited as error:
        log.warning("console: %s rate limited: %s", channel, error)
        return "rate_limited"
    except DeliveryError as error:
        log.warning("console: could not send to %s: %s", chat_ref(channel, chat_id), error)
        return "failed"
    return None


async def tell_staff_room(app: Config, text: str) -> None:
    """A line in the staff room (STAFF_ROOM), when there is one, so both places see the same."""
    address = app[SETTINGS].staff_room_address()
    sender = app[SENDERS].get(address[0]) if address else None
    if address is None or sender is None:
        return
    try:
        await sender.send(address[1], [Reply(text)])
    except DeliveryError as error:
        log.warning("console: staff group unreachable: %s", error)
