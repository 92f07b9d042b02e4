"""getUpdates without a public address: the offset moves past an update only once it is done.

PTB's Updater confirms every update it fetched, processed or not, so an update that arrives
while the database is down would be answered with an apology and lost. Here an update the
channel could not keep stops the loop at its offset: getUpdates hands it out again (with the
ones behind it, in order) after a pause, until the database is back and it is answered once.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot, Update
from telegram.error import TelegramError

from bot.channels.retry import RetryPolicy

log = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS = 30
CONFIRM_TIMEOUT_SECONDS = 5


class Poller:
    """One getUpdates loop; `offset` is the first update not yet processed."""

    def __init__(
        self,
        bot: Bot,
        process: Callable[[Update], Awaitable[bool]],
        allowed_updates: Sequence[str],
        retry: RetryPolicy,
    ):
        self.bot = bot
        self.process = process
        self.allowed_updates = list(allowed_updates)
        self.retry = retry
        self.offset = 0

    async def run(self) -> None:
        try:
            await self.bot.delete_webhook()  # Telegram delivers one way at a time
        except TelegramError as error:
            log.warning("telegram: deleteWebhook failed: %s", error)
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=self.offset or None,
                    timeout=POLL_TIMEOUT_SECONDS,
                    read_timeout=POLL_TIMEOUT_SECONDS + 10,
                    allowed_updates=self.allowed_updates,
                )
            except TelegramError as error:
                failures += 1
                log.warning("telegram: getUpdates failed (%s)", error)
                await self.retry.sleep(self.retry.delay(failures))
                continue
            if await self._process_in_order(updates):
                failures = 0
            else:
                failures += 1
                await self.retry.sleep(self.retry.delay(failures))

    async def _process_in_order(self, updates: Sequence[Update]) -> bool:
        """False at the first update kept for later: the ones behind it wait their turn."""
        for update in updates:
            if update.update_id < self.offset:
                continue  # confirmed already; a stale answer from before a restart
            if not await self.process(update):
                log.info("telegram: update %s kept; polled again later", update.update_id)
                return False
            self.offset = update.update_id + 1
        return True

    async def confirm(self) -> None:
        """Tell Telegram what was processed, so a restart does not hand it out again."""
        if not self.offset:
            return
        try:
            await self.bot.get_updates(
                offset=self.offset, timeout=0, limit=1, read_timeout=CONFIRM_TIMEOUT_SECONDS
            )
        except TelegramError as error:
            log.warning("telegram: last offset not confirmed (%s)", error)
