"""The first checks of a webhook guarded by a shared secret header: who sent it, is it JSON."""

import hmac
import json
from typing import Any

from aiohttp import web


class Refused(Exception):
    """The request is answered with `response` and goes no further."""

    def __init__(self, response: web.Response):
        self.response = response


async def secret_json(request: web.Request, header: str, secret: str) -> Any:
    """The parsed body, or Refused: 403 without the secret (compared in constant time), 400 if
    the body is not JSON."""
    given = request.headers.get(header, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Refused(web.Response(status=403, text="forbidden"))
    try:
        return json.loads(await request.read())
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # deep nesting too
        raise Refused(web.Response(status=400, text="body must be JSON")) from error
