"""Sending to a citizen from the console, and the platforms' reply windows.

The two functions the channel registry (issue 12) should take over: `send_to_contact` (today
the app's senders, plus the web chat's store-and-push) and `reply_window`. Both are called
after the database commit: nothing here runs inside a transaction.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.app import DATABASE, SENDERS, SETTINGS
from bot.console import webchat
from bot.console.live import HUB
from bot.delivery import DeliveryError, RateLimited, Unreachable
from bot.messages import Reply

log = logging.getLogger(__name__)

# How long after a citizen's last message a platform still lets the page write to them.
REPLY_WINDOWS: dict[str, timedelta] = {
    "zalo": timedelta(days=7),
    "messenger": timedelta(hours=24),
}

Config = Mapping[Any, Any]  # the app, or a request's config_dict (the console is a sub-app)


def reply_window(channel: str) -> timedelta | None:
    """None: the channel lets us write at any time (Telegram, Zalo Bot, web chat)."""
    return REPLY_WINDOWS.get(channel)


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
    if channel == webchat.CHANNEL:
        await webchat.WebChatSender(app[DATABASE], app.get(HUB)).send(chat_id, replies)
        return None
    sender = app[SENDERS].get(channel)
    if sender is None:
        return "no_sender"
    try:
        await sender.send(chat_id, list(replies))
    except Unreachable as error:
        log.info("console: %s:%s unreachable: %s", channel, chat_id, error)
        return error.reason
    except RateLimited as error:
        log.warning("console: %s rate limited: %s", channel, error)
        return "rate_limited"
    except DeliveryError as error:
        log.warning("console: could not send to %s:%s: %s", channel, chat_id, error)
        return "failed"
    return None


STAFF_ROOM_CHANNEL = "telegram"  # where the staff group lives (handlers/handoff.py)


async def tell_staff_room(app: Config, text: str) -> None:
    """A line in the Telegram staff group, when there is one, so both places see the same."""
    chat_id = app[SETTINGS].telegram_staff_chat_id
    sender = app[SENDERS].get(STAFF_ROOM_CHANNEL)
    if chat_id is None or sender is None:
        return
    try:
        await sender.send(str(chat_id), [Reply(text)])
    except DeliveryError as error:
        log.warning("console: staff group unreachable: %s", error)
