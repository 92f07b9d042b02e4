"""`troly doctor` for Telegram: the token works, and the webhook is where Telegram delivers."""

from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.channels.telegram.settings import TelegramSettings
from bot.doctor import FAIL, OK, WARN, Check

NAME = "telegram"
PENDING_BACKLOG = 100  # more undelivered updates than this: the webhook has been failing


async def _call(http: aiohttp.ClientSession, settings: TelegramSettings, method: str) -> Any:
    url = f"{settings.api_url}{settings.token}/{method}"
    async with http.get(url) as response:
        body = await response.json(content_type=None)
    if not body.get("ok"):
        raise PermissionError(f"{body.get('error_code')} {body.get('description', '')}".strip())
    return body["result"]


async def doctor_checks(settings: TelegramSettings) -> list[Check]:
    if not settings.token:
        return []
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        try:
            me = await _call(http, settings, "getMe")
        except PermissionError as refused:
            return [
                Check(
                    FAIL,
                    NAME,
                    f"Telegram rejects TELEGRAM_TOKEN ({refused}): copy the token again "
                    "from @BotFather (/mybots -> API Token)",
                )
            ]
        except (aiohttp.ClientError, TimeoutError) as error:
            return [Check(FAIL, NAME, f"cannot reach {settings.api_url} ({error!r})")]
        checks = [Check(OK, NAME, f"token works: @{me.get('username')}")]
        info = await _call(http, settings, "getWebhookInfo")
    return checks + _webhook_checks(settings, info)


def _webhook_checks(settings: TelegramSettings, info: dict[str, Any]) -> list[Check]:
    wanted, registered = settings.webhook_url, info.get("url") or ""
    name = f"{NAME} webhook"
    if not wanted:
        if registered:
            return [
                Check(
                    FAIL,
                    name,
                    f"Telegram delivers to {registered} but TELEGRAM_WEBHOOK_URL is not set: "
                    "set it, or `troly serve --poll telegram` removes the webhook",
                )
            ]
        return [Check(OK, name, "none: run `troly serve --poll telegram`")]
    checks = []
    if not wanted.startswith("https://"):
        checks.append(Check(FAIL, name, f"{wanted} is not HTTPS: Telegram needs https://"))
    if registered != wanted:
        checks.append(
            Check(
                FAIL, name, f"Telegram has {registered or 'none'}: run `troly telegram set-webhook`"
            )
        )
    if info.get("last_error_message"):
        when = datetime.fromtimestamp(info.get("last_error_date") or 0, UTC)
        checks.append(
            Check(
                WARN,
                name,
                f"last delivery error at {when:%Y-%m-%d %H:%M} UTC: {info['last_error_message']} "
                "(is the reverse proxy up, and its certificate valid?)",
            )
        )
    pending = int(info.get("pending_update_count") or 0)
    if pending > PENDING_BACKLOG:
        checks.append(Check(WARN, name, f"{pending} updates waiting to be delivered"))
    if not checks:
        checks.append(Check(OK, name, f"{registered}, {pending} pending"))
    return checks
