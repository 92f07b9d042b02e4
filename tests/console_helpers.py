"""Helpers of the console tests: accounts straight into the database, a logged-in client."""

import re
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from bot.console.security import hash_password
from storage.accounts import create_account
from storage.db import Database

PASSWORD = "mat-khau-dai-1"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def add_account(
    database: Database, login: str, role: str = "staff", name: str | None = None,
    password: str = PASSWORD,
) -> int:  # fmt: skip
    async with database.session() as session, session.begin():
        account = await create_account(
            session, name=name or login.title(), login=login, role=role,
            password_hash=hash_password(password), now=datetime.now(UTC),
        )  # fmt: skip
        return account.id or 0


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def login(client: TestClient, username: str, password: str = PASSWORD):
    """POST the login form as a browser would; returns the response (not followed)."""
    page = await client.get("/staff/login")
    token = csrf_in(await page.text())
    return await client.post(
        "/staff/login",
        data={"csrf": token, "username": username, "password": password, "next": "/staff/"},
        allow_redirects=False,
    )


async def page_csrf(client: TestClient, path: str = "/staff/") -> str:
    response = await client.get(path)
    assert response.status == 200, path
    return csrf_in(await response.text())
