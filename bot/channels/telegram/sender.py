"""Sending to Telegram: PTB errors as delivery errors, and retries with backoff when asked."""

import datetime as dt
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels.retry import NO_RETRY, RetryPolicy
from bot.channels.telegram.render import Outgoing, render
from bot.delivery import (
    DeliveryError,
    MaybeDelivered,
    RateLimited,
    TemporaryFailure,
    Unreachable,
)
from bot.messages import Reply

log = logging.getLogger(__name__)
T = TypeVar("T")


# Telegram punishes early retries: 429 waits exactly retry_after (see call_with_retry).
TELEGRAM_RETRY = RetryPolicy(attempts=4)
# Guides link to portals; a big preview card under every step would bury the step itself.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _retry_after(error: RetryAfter) -> float:
    # PTB 22 warns that the attribute turns from int into timedelta; either is fine here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def call(action: Callable[[], Awaitable[T]]) -> T:
    """Run one Bot API call, translating PTB's errors into bot.delivery's."""
    try:
        return await action()
    except RetryAfter as error:
        raise RateLimited(_retry_after(error), str(error)) from error
    except Forbidden as error:
        raise Unreachable("blocked", str(error)) from error
    except BadRequest as error:
        if "chat not found" in str(error).lower():
            raise Unreachable("not_found", str(error)) from error
        raise DeliveryError(str(error)) from error
    except TimedOut as error:  # it may have arrived: only the caller knows if a repeat hurts
        raise MaybeDelivered(str(error)) from error
    except NetworkError as error:  # dropped connections and 5xx
        raise TemporaryFailure(str(error)) from error
    except TelegramError as error:
        raise DeliveryError(str(error)) from error


async def call_with_retry(action: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    delay = policy.first_delay
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call(action)
        except RateLimited as error:
            if attempt == policy.attempts or error.retry_after > policy.max_delay:
                raise
            log.info("telegram 429: waiting %.0fs (attempt %d)", error.retry_after, attempt)
            await policy.sleep(error.retry_after)
        except MaybeDelivered:
            raise  # it may have arrived: a second copy is worse than a late one
        except TemporaryFailure as error:
            if attempt == policy.attempts:
                raise
            log.info("telegram unreachable (%s): retry in %.1fs", error, delay)
            await policy.sleep(delay)
            delay = min(delay * 2, policy.max_delay)
    raise AssertionError("unreachable: the loop returns or raises")


class TelegramSender:
    """bot.delivery's Sender for Telegram; returns Telegram message ids."""

    channel = "telegram"

    def __init__(self, bot: Bot, retry: RetryPolicy = NO_RETRY, owns_bot: bool = False):
        self.bot = bot
        self.retry = retry
        self._owns_bot = owns_bot
        self._started = False

    async def send(self, chat_id: str, replies: Sequence[Reply], skip: int = 0) -> list[str]:
        # Render everything first: a reply Telegram cannot show fails before anything is sent.
        messages = [message for reply in replies for message in render(reply)]
        if self._owns_bot and not self._started:
            await call_with_retry(self.bot.initialize, self.retry)
            self._started = True
        ids = []
        for index, message in enumerate(messages[skip:], start=skip):
            try:
                sent = await call_with_retry(
                    lambda m=message: self._deliver(chat_id, m), self.retry
                )
            except DeliveryError as error:
                error.sent = index
                raise
            ids.append(str(sent.message_id))
        return ids

    async def _deliver(self, chat_id: str, message: Outgoing) -> Message:
        if message.photo is not None:
            return await self.bot.send_photo(
                chat_id,
                message.photo,
                caption=message.html or None,
                parse_mode=ParseMode.HTML,
                reply_markup=message.keyboard,
            )
        return await self.bot.send_message(
            chat_id,
            message.html,
            parse_mode=ParseMode.HTML,
            reply_markup=message.keyboard,
            link_preview_options=NO_PREVIEW,
        )

    async def close(self) -> None:
        if self._owns_bot and self._started:
            await self.bot.shutdown()
            self._started = False
