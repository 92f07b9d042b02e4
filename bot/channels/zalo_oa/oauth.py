"""OAuth v4 for the OA: the permission page with PKCE, and single-use refresh tokens kept under
a database lock so two workers never spend the same one."""

import asyncio
import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from bot.channels.http import Clock, HttpHolder, call_json, utc_now
from bot.channels.zalo_oa.settings import ZaloOASettings
from bot.delivery import DeliveryError
from storage.db import Database
from storage.oauth_tokens import (
    TokenPair,
    load_token,
    locked_token,
    replace_tokens,
    seed_refresh_token,
)

log = logging.getLogger(__name__)


ACCESS_TOKEN_REFRESH_AHEAD = timedelta(hours=1)  # of the 25-hour lifetime
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
ACCESS_TOKEN_LIFETIME = timedelta(hours=25)
TOKEN_KEEPALIVE = timedelta(hours=1)  # idle OAs still refresh, so the refresh token never lapses


class NotAuthorised(DeliveryError):
    """No usable token: the OA must be authorised again with `troly zalo login`."""


class TokenLost(NotAuthorised):
    """Zalo issued a new pair that could not be stored: the old refresh token is spent."""


class OAuthError(Exception):
    def __init__(self, code: object, description: str):
        self.code = code
        super().__init__(f"Zalo OAuth error {code}: {description}")


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str
    state: str

    @classmethod
    def new(cls) -> "Pkce":
        verifier = secrets.token_urlsafe(32)  # 43 characters, as RFC 7636 asks
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return cls(verifier, challenge, secrets.token_urlsafe(12))


def permission_url(settings: ZaloOASettings, redirect_uri: str, pkce: Pkce) -> str:
    """The page where an OA administrator grants the app its permissions."""
    query = urlencode(
        {
            "app_id": settings.app_id,
            "redirect_uri": redirect_uri,
            "code_challenge": pkce.challenge,
            "state": pkce.state,
        }
    )
    return f"{settings.oauth_url.rstrip('/')}/v4/oa/permission?{query}"


class OAuthClient:
    """{ZALO_OAUTH_URL}/v4/oa/access_token: the `secret_key` header and a form body."""

    def __init__(self, settings: ZaloOASettings, http: "HttpHolder", clock: Clock = utc_now):
        self.settings = settings
        self.http = http
        self.clock = clock

    async def refresh(self, refresh_token: str) -> TokenPair:
        return await self._token({"refresh_token": refresh_token, "grant_type": "refresh_token"})

    async def exchange_code(self, code: str, code_verifier: str) -> TokenPair:
        return await self._token(
            {"code": code, "code_verifier": code_verifier, "grant_type": "authorization_code"}
        )

    async def _token(self, form: dict[str, str]) -> TokenPair:
        settings = self.settings
        data = await call_json(
            await self.http.get(),
            "POST",
            f"{settings.oauth_url.rstrip('/')}/v4/oa/access_token",
            data={"app_id": settings.app_id or "", **form},
            headers={"secret_key": settings.app_secret or ""},
        )
        if not data.get("access_token") or not data.get("refresh_token"):
            description = data.get("error_description") or data.get("error_name") or data
            raise OAuthError(data.get("error"), str(description))
        now = self.clock()
        lifetime = int(data.get("expires_in") or 90000)  # Zalo sends "90000" as a string
        return TokenPair(
            str(data["access_token"]),
            str(data["refresh_token"]),
            now + timedelta(seconds=lifetime),
            now + REFRESH_TOKEN_LIFETIME,
        )


class TokenManager:
    """The OA access token: cached, refreshed ahead of expiry, one refresh at a time anywhere."""

    def __init__(
        self, settings: ZaloOASettings, database: Database, oauth: OAuthClient, clock: Clock
    ):
        assert settings.app_id, "ZALO_APP_ID is not set"
        self.app_id = settings.app_id
        self.settings = settings
        self.database = database
        self.oauth = oauth
        self.clock = clock
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._lock = asyncio.Lock()  # coroutines of this process queue here, not on the database

    async def seed(self) -> None:
        """ZALO_REFRESH_TOKEN fills an empty store once; later it is ignored."""
        token = self.settings.refresh_token
        if token and await seed_refresh_token(self.database, self.app_id, token, self.clock()):
            log.info("zalo: token store seeded from ZALO_REFRESH_TOKEN")

    def _fresh(self, expires_at: datetime | None) -> bool:
        return expires_at is not None and expires_at - ACCESS_TOKEN_REFRESH_AHEAD > self.clock()

    async def access_token(self) -> str:
        if self._token and self._fresh(self._expires_at):
            return self._token
        stored = await load_token(self.database, self.app_id)  # another process may have renewed
        if stored and stored.access_token and self._fresh(stored.access_expires_at):
            self._token, self._expires_at = stored.access_token, stored.access_expires_at
            return stored.access_token
        return await self.refresh(rejected=stored.access_token if stored else None)

    async def refresh(self, rejected: str | None = None) -> str:
        """A new access token, unless someone renewed the `rejected` one while we waited."""
        async with self._lock, locked_token(self.database, self.app_id) as locked:
            current = locked.current
            if current is None:
                raise NotAuthorised("no Zalo OA token stored: run `troly zalo login`")
            renewed = current.access_token and current.access_token != rejected
            if renewed and self._fresh(current.access_expires_at):
                self._token, self._expires_at = current.access_token, current.access_expires_at
                return current.access_token
            try:
                pair = await self.oauth.refresh(current.refresh_token)
            except OAuthError as error:
                log.error("zalo: refresh refused (%s): run `troly zalo login`", error)
                raise NotAuthorised(str(error)) from error
            try:
                await locked.store(pair, self.clock())
            except Exception as error:
                # The old refresh token is spent and the new one is not stored: say so loudly.
                log.critical(
                    "zalo: new OA tokens could not be stored (%s); the OA stays locked out "
                    "until an administrator runs `troly zalo login`",
                    error,
                )
                raise TokenLost("new Zalo tokens could not be stored") from error
        self._token, self._expires_at = pair.access_token, pair.access_expires_at
        log.info("zalo: access token refreshed, valid until %s", pair.access_expires_at)
        return pair.access_token

    async def keep_alive(self) -> None:
        """Refresh ahead of expiry even when nobody writes: a lapsed refresh token locks us out."""
        while True:
            await asyncio.sleep(TOKEN_KEEPALIVE.total_seconds())
            try:
                await self.access_token()
            except DeliveryError as error:
                log.warning("zalo: token keep-alive failed: %s", error)


async def login_with_code(
    settings: ZaloOASettings, database: Database, code: str, pkce: Pkce, clock: Clock = utc_now
) -> TokenPair:
    """`troly zalo login`: exchange the authorisation code and store the first pair."""
    http = HttpHolder()
    try:
        pair = await OAuthClient(settings, http, clock).exchange_code(code, pkce.verifier)
    finally:
        await http.close()
    assert settings.app_id
    await replace_tokens(database, settings.app_id, pair, clock())
    return pair


async def login_with_refresh_token(
    settings: ZaloOASettings, database: Database, refresh_token: str, clock: Clock = utc_now
) -> str:
    """Store a refresh token from the OA admin tools, then spend it at once to prove it works."""
    assert settings.app_id
    now = clock()
    await replace_tokens(database, settings.app_id, TokenPair("", refresh_token, now), now)
    http = HttpHolder()
    try:
        manager = TokenManager(settings, database, OAuthClient(settings, http, clock), clock)
        return await manager.refresh()
    finally:
        await http.close()
