"""The citizen's name for the console (issue 13, "name if known"). Messenger's webhook carries
none, so the User Profile API is asked once per new contact: after the reply is sent, in a task
of its own (no citizen waits for it), and outside any transaction (the read and the write are
two short ones around the call). The name is never logged: only the hashed chat reference."""

import asyncio
import logging
from urllib.parse import quote

import aiohttp

from bot.channels.http import HTTP_TIMEOUT
from bot.channels.messenger.events import CHANNEL
from bot.channels.messenger.settings import MessengerSettings
from bot.logs import chat_ref
from storage.conversations import contact_needs_name, name_contact
from storage.db import Database

log = logging.getLogger(__name__)

PROFILE_FIELDS = "first_name,last_name"
REMEMBERED = 50_000  # people looked up in this process; past that the set starts again


class NameLookup:
    def __init__(self, settings: MessengerSettings, database: Database):
        self.settings, self.database = settings, database
        # Looked up already (found or not): once per person and process, not at every message.
        self._asked: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def after_reply(self, psid: str) -> None:
        if psid in self._asked:
            return
        if len(self._asked) >= REMEMBERED:
            self._asked.clear()
        self._asked.add(psid)
        task = asyncio.create_task(self._learn(psid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Until the lookups under way are done (tests, shutdown)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.wait()

    async def _learn(self, psid: str) -> None:
        try:
            async with self.database.session() as session:
                if not await contact_needs_name(session, CHANNEL, psid):
                    return  # named already, or erased since
            name = await self._ask(psid)
            if name:
                async with self.database.session() as session, session.begin():
                    await name_contact(session, CHANNEL, psid, name)
        except Exception:  # a name is a nicety: nothing of the conversation depends on it
            log.exception("Messenger name of %s not kept", chat_ref(CHANNEL, psid))

    async def _ask(self, psid: str) -> str | None:
        """First and last name from the User Profile API; None when Meta gives none."""
        url = f"{self.settings.api_url}/{quote(psid, safe='')}"
        params = {"fields": PROFILE_FIELDS, "access_token": self.settings.page_token or ""}
        try:
            async with (
                aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
                http.get(url, params=params) as response,
            ):
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("Messenger profile of %s not read (%r)", chat_ref(CHANNEL, psid), error)
            return None
        if not isinstance(body, dict) or "error" in body:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            code = error.get("code") if isinstance(error, dict) else None
            log.warning("Meta gave no profile for %s (%s)", chat_ref(CHANNEL, psid), code)
            return None
        parts = (str(body.get(key) or "").strip() for key in ("first_name", "last_name"))
        return " ".join(part for part in parts if part) or None
