"""Console accounts: login, sessions, lockout, roles, CSRF and the security headers."""

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot.app import create_app
from bot.console.security import COOKIE, lockout_seconds
from bot.engine import Engine
from bot.settings import Settings
from storage.accounts import account_by_login, set_password
from storage.models import ConsoleSession
from tests.console_helpers import PASSWORD, add_account, csrf_in, login, page_csrf


@pytest.fixture
async def client(aiohttp_client, engine: Engine) -> TestClient:
    return await aiohttp_client(create_app(Settings(database_url=engine.database.url), engine))


async def test_login_opens_the_console_with_a_strict_cookie_and_headers(client, engine) -> None:
    await add_account(engine.database, "lan", "admin", "Trần Thị Lan")
    response = await login(client, "lan")
    assert response.status == 303 and response.headers["Location"] == "/staff/"
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    page = await client.get("/staff/")
    assert page.status == 200
    assert "Trần Thị Lan" in await page.text()
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "same-origin"


async def test_secure_cookie_behind_an_https_proxy_that_is_trusted(aiohttp_client, engine) -> None:
    settings = Settings(database_url=engine.database.url, console_trust_proxy=True)
    client = await aiohttp_client(create_app(settings, engine))
    await add_account(engine.database, "lan")
    page = await client.get("/staff/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"]


async def test_without_a_session_pages_redirect_to_login_and_posts_are_refused(client) -> None:
    response = await client.get("/staff/inbox", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/staff/login?next=/staff/inbox"
    assert (await client.post("/staff/log", data={"topic": "x"})).status == 401


async def test_wrong_password_is_refused_politely(client, engine) -> None:
    await add_account(engine.database, "lan")
    response = await login(client, "lan", "sai-mat-khau")
    assert response.status == 401
    assert "không đúng" in await response.text()
    assert (await login(client, "nobody", PASSWORD)).status == 401
    assert (await client.get("/staff/", allow_redirects=False)).status == 302


async def test_five_wrong_passwords_lock_the_login_with_a_growing_delay(client, engine) -> None:
    await add_account(engine.database, "lan")
    for _ in range(5):
        assert (await login(client, "lan", "doan-mo")).status == 401
    locked = await login(client, "lan")  # even the right password waits
    assert locked.status == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Tạm khoá" in await locked.text()
    at = datetime.now(UTC)
    assert lockout_seconds(4, at, at) == 0
    assert lockout_seconds(5, at, at) == 30
    assert lockout_seconds(6, at, at) == 60
    assert lockout_seconds(20, at, at) == 3600
    assert lockout_seconds(5, at - timedelta(seconds=31), at) == 0


async def test_forged_or_missing_csrf_token_is_rejected(client, engine) -> None:
    await add_account(engine.database, "lan")
    await login(client, "lan")
    form = {"topic": "Cài VNeID", "people": "2", "place": "Tại quầy"}
    assert (await client.post("/staff/log", data={**form, "csrf": "forged"})).status == 403
    assert (await client.post("/staff/log", data=form)).status == 403
    token = await page_csrf(client, "/staff/log")
    ok = await client.post("/staff/log", data={**form, "csrf": token}, allow_redirects=False)
    assert ok.status == 303
    # The login form is protected too (double-submit cookie).
    client.session.cookie_jar.clear()
    bare = await client.post("/staff/login", data={"username": "lan", "password": PASSWORD})
    assert bare.status == 403


async def test_volunteer_gets_403_on_staff_pages_and_admin_pages_need_admin(client, engine) -> None:
    await add_account(engine.database, "tv05", "volunteer")
    response = await login(client, "tv05")
    assert response.headers["Location"] == "/staff/me"
    for path in ("/staff/", "/staff/inbox", "/staff/tickets", "/staff/log", "/staff/audit"):
        page = await client.get(path)
        assert page.status == 403, path
        assert "Không có quyền" in await page.text()
    assert (await client.get("/staff/me")).status == 200
    client.session.cookie_jar.clear()
    await add_account(engine.database, "binh", "staff")
    await login(client, "binh")
    assert (await client.get("/staff/inbox")).status == 200
    assert (await client.get("/staff/audit")).status == 403
    assert (await client.get("/staff/canned")).status == 403


async def test_a_new_password_or_idle_hours_end_the_sessions(client, engine) -> None:
    await add_account(engine.database, "lan")
    await login(client, "lan")
    assert (await client.get("/staff/", allow_redirects=False)).status == 200
    async with engine.database.session() as session, session.begin():
        account = await account_by_login(session, "lan")
        await set_password(session, account, "x", datetime.now(UTC))
    assert (await client.get("/staff/", allow_redirects=False)).status == 302
    async with engine.database.session() as session, session.begin():
        account = await account_by_login(session, "lan")
        await set_password(session, account, account.password_hash, datetime.now(UTC))
    await add_account(engine.database, "binh")
    await login(client, "binh")
    assert (await client.get("/staff/", allow_redirects=False)).status == 200
    async with engine.database.session() as session, session.begin():
        old = datetime.now(UTC) - timedelta(hours=10)
        await session.execute(update(ConsoleSession).values(last_seen_at=old))
    assert (await client.get("/staff/", allow_redirects=False)).status == 302


async def test_logout_ends_the_session(client, engine) -> None:
    await add_account(engine.database, "lan")
    await login(client, "lan")
    token = await page_csrf(client)
    await client.post("/staff/logout", data={"csrf": token})
    assert (await client.get("/staff/", allow_redirects=False)).status == 302


async def test_unknown_pages_are_polite(client, engine) -> None:
    await add_account(engine.database, "lan")
    await login(client, "lan")
    for path in ("/staff/inbox/999", "/staff/tickets/PA-1999-000001", "/staff/contacts/abc"):
        page = await client.get(path)
        assert page.status == 404, path
        assert "Không tìm thấy" in await page.text()


async def test_a_failure_is_a_polite_page_never_a_traceback(client, engine, monkeypatch) -> None:
    from bot.console import today

    async def broken(*args: object) -> int:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(today, "sessions_since", broken)
    await add_account(engine.database, "lan")
    await login(client, "lan")
    page = await client.get("/staff/")
    assert page.status == 500
    body = await page.text()
    assert "Xin lỗi, đã có lỗi" in body and "Traceback" not in body and "on fire" not in body
    assert "Content-Security-Policy" in page.headers


async def test_login_never_sends_people_to_another_site(client, engine) -> None:
    await add_account(engine.database, "lan")
    for target in ("//evil.example/x", "https://evil.example/", "/staff/../x"):
        client.session.cookie_jar.clear()
        page = await client.get("/staff/login")
        token = csrf_in(await page.text())
        response = await client.post(
            "/staff/login",
            data={"csrf": token, "username": "lan", "password": PASSWORD, "next": target},
            allow_redirects=False,
        )
        assert response.headers["Location"].startswith("/staff/"), target
        assert "evil" not in response.headers["Location"]


async def test_admins_manage_accounts_in_the_console(client, aiohttp_client, engine) -> None:
    await add_account(engine.database, "lan", "admin")
    await login(client, "lan")
    token = await page_csrf(client, "/staff/accounts")
    form = {"csrf": token, "name": "Nguyễn Văn Bình", "login": "Binh", "role": "staff",
            "password": "mat-khau-binh"}  # fmt: skip
    added = await client.post("/staff/accounts", data=form, allow_redirects=False)
    assert added.headers["Location"] == "/staff/accounts?notice=added"
    again = await client.post("/staff/accounts", data=form, allow_redirects=False)
    assert again.headers["Location"].endswith("notice=exists")
    short = await client.post("/staff/accounts", allow_redirects=False,
                              data={**form, "login": "x", "password": "ngan"})  # fmt: skip
    assert short.headers["Location"].endswith("notice=invalid")
    assert "Nguyễn Văn Bình" in await (await client.get("/staff/accounts")).text()

    binh = await aiohttp_client(client.server)
    assert (await login(binh, "binh", "mat-khau-binh")).status == 303
    assert (await binh.get("/staff/accounts")).status == 403
    async with engine.database.session() as session:
        binh_id = (await account_by_login(session, "binh")).id
    await client.post(f"/staff/accounts/{binh_id}/disable", data={"csrf": token})
    assert (await binh.get("/staff/", allow_redirects=False)).status == 302
    assert (await login(binh, "binh", "mat-khau-binh")).status == 401
    await client.post(f"/staff/accounts/{binh_id}/enable", data={"csrf": token})
    await client.post(f"/staff/accounts/{binh_id}/password",
                      data={"csrf": token, "password": "mat-khau-moi-9"})  # fmt: skip
    assert (await login(binh, "binh", "mat-khau-moi-9")).status == 303
    audit = await (await client.get("/staff/audit?action=account")).text()
    assert "login:binh" in audit and "disable" in audit


def test_every_console_view_checks_the_role_on_the_server(engine) -> None:
    app = create_app(Settings(database_url=engine.database.url), engine)
    console = next(r._app for r in app.router.resources() if hasattr(r, "_app"))
    open_views = {
        (route.method, route.resource.canonical)
        for route in console.router.routes()
        if route.method != "HEAD" and not hasattr(route.handler, "__wrapped__")
    }
    # Logout needs a session and its CSRF token (the middleware), only no particular role.
    assert open_views == {
        ("GET", "/staff/login"), ("POST", "/staff/login"), ("POST", "/staff/logout"),
        ("GET", "/staff/static"),
    }  # fmt: skip


async def test_a_volunteer_walking_every_console_route_gets_403_but_on_their_own_pages(
    client, engine
) -> None:
    """Every route the console mounts, asked for by a volunteer with a valid CSRF token: only
    their own page, their own share-link page and its QR codes answer; the rest is 403."""
    await add_account(engine.database, "tv05", "volunteer", "Tình nguyện viên 5")
    await add_account(engine.database, "tv06", "volunteer", "Tình nguyện viên 6")
    async with engine.database.session() as session:
        own = (await account_by_login(session, "tv05")).staff_id
        other = (await account_by_login(session, "tv06")).staff_id
    await login(client, "tv05")
    token = await page_csrf(client, "/staff/me")
    app = client.server.app
    console = next(r._app for r in app.router.resources() if hasattr(r, "_app"))
    mine = {"/staff/me", f"/staff/volunteers/{own}", f"/staff/volunteers/{own}/qr.png"}
    public = {"/staff/login", "/staff/logout", "/staff/static"}
    walked = set()
    for route in console.router.routes():
        path = route.resource.canonical
        if route.method == "HEAD" or path in public:
            continue
        values = {"id": str(other), "number": "PA-2026-000001", "verb": "approve",
                  "token": "x", "name": "x", "survey": "x"}  # fmt: skip
        for key, value in values.items():
            path = path.replace("{" + key + "}", value)
        assert "{" not in path, path
        for target in {path, path.replace(f"/volunteers/{other}", f"/volunteers/{own}")}:
            if route.method == "GET":
                response = await client.get(target, allow_redirects=False)
            else:
                response = await client.request(route.method, target, data={"csrf": token},
                                                allow_redirects=False)  # fmt: skip
            walked.add((route.method, target))
            if target in mine:
                assert response.status != 403, (route.method, target)
            else:
                assert response.status == 403, (route.method, target, response.status)
    assert ("GET", "/staff/me") in walked and ("POST", f"/staff/inbox/{other}/answer") in walked
    assert len(walked) > 50  # the whole console, parts 1 and 2
    assert (await client.get("/staff/me")).status == 200


async def test_five_wrong_passwords_from_one_address_lock_every_login_there(client, engine) -> None:
    """A script trying one password on many logins is held back by its address too."""
    await add_account(engine.database, "lan")
    for name in ("an", "binh", "chi", "dung", "giang"):
        assert (await login(client, name, "doan-mo")).status == 401
    locked = await login(client, "lan")  # a login never tried before, its right password
    assert locked.status == 429 and int(locked.headers["Retry-After"]) > 0
    assert (await client.get("/staff/", allow_redirects=False)).status == 302


async def test_every_state_changing_route_refuses_a_forged_csrf_token(client, engine) -> None:
    """An admin (allowed everything) whose browser is made to post without the page's token:
    every POST route of the console answers 403 and writes nothing."""
    from sqlalchemy import func

    from storage.models import AuditEvent

    await add_account(engine.database, "lan", "admin")
    await login(client, "lan")
    await page_csrf(client)  # a real session, with a real token the forger does not have
    console = next(r._app for r in client.server.app.router.resources() if hasattr(r, "_app"))
    values = {"id": "1", "number": "PA-2026-000001", "verb": "approve", "token": "x",
              "name": "x", "survey": "x"}  # fmt: skip

    async def audited() -> int:
        async with engine.database.session() as session:
            return (await session.execute(select(func.count()).select_from(AuditEvent))).scalar()

    before = await audited()
    posts = 0
    for route in console.router.routes():
        path = route.resource.canonical
        if route.method != "POST" or path == "/staff/login":  # its own double-submit cookie
            continue
        for key, value in values.items():
            path = path.replace("{" + key + "}", value)
        for forged in ({"csrf": "forged"}, {}):
            response = await client.post(path, data=forged, allow_redirects=False)
            assert response.status == 403, (path, forged, response.status)
            posts += 1
    assert posts > 40 and await audited() == before
    assert (await client.get("/staff/", allow_redirects=False)).status == 200  # still logged in


async def test_an_open_inbox_alone_does_not_keep_a_login_alive(client, engine) -> None:
    """The live stream reconnects by itself every few minutes: that is not somebody at work, so
    an inbox left open on an empty desk still ends after the idle hours; a page view is."""
    from tests.console_helpers import read_event

    await add_account(engine.database, "lan", "staff")
    await login(client, "lan")

    async def last_seen() -> datetime:
        async with engine.database.session() as session:
            row = (await session.execute(select(ConsoleSession))).scalar_one()
            return row.last_seen_at

    async def idle_for(delta: timedelta) -> datetime:
        async with engine.database.session() as session, session.begin():
            await session.execute(
                update(ConsoleSession).values(last_seen_at=datetime.now(UTC) - delta)
            )
        return await last_seen()

    before = await idle_for(timedelta(minutes=5))
    stream = await client.get("/staff/events", headers={"Accept": "text/event-stream"})
    assert (await read_event(stream))[0] == "inbox"
    stream.close()
    assert await last_seen() == before
    assert (await client.get("/staff/inbox")).status == 200
    assert await last_seen() > before + timedelta(minutes=4)

    await idle_for(timedelta(hours=10))
    stream = await client.get("/staff/events", headers={"Accept": "text/event-stream"})
    assert stream.status == 401
