"""Accounts: sign up, sign in, sign out, sessions with CSRF, throttling, headers, secrets."""

from __future__ import annotations

import os
import re

import httpx
import pytest

from server.config import Settings
from tests.support.accounts import TEST_PASSWORD
from tests.support.servers import run_server


async def test_signup_login_logout_with_json_and_csrf(server):
    async with httpx.AsyncClient(base_url=server.http) as browser:
        r = await browser.post("/api/auth/signup", json={
            "username": "ada", "password": "analytical engine", "display_name": "Ada L."})
        assert r.status_code == 201 and r.json()["display_name"] == "Ada L."
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert (await browser.get("/api/auth/me")).json()["username"] == "ada"
        # a cookie-authenticated write without the session's CSRF token is refused
        r = await browser.post("/api/docs", json={"title": "x"})
        assert r.status_code == 403 and "CSRF" in r.json()["detail"]
        page = await browser.get("/")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        r = await browser.post("/api/docs", json={"title": "Mine"},
                               headers={"X-CSRF-Token": token})
        assert r.status_code == 201
        # ... and its document is on that person's dashboard only
        assert (await browser.get("/api/docs")).json()["total"] == 1
        r = await browser.post("/api/auth/logout", headers={"X-CSRF-Token": token})
        assert r.status_code == 204
        assert (await browser.get("/api/auth/me")).status_code == 401
        r = await browser.post("/api/auth/login",
                               json={"username": "ADA", "password": "analytical engine"})
        assert r.status_code == 200
        r = await browser.post("/api/auth/signup",
                               json={"username": "ada", "password": "another password"})
        assert r.status_code == 409
        r = await browser.post("/api/auth/signup", json={"username": "bob", "password": "short"})
        assert r.status_code == 422


async def test_html_forms_need_their_csrf_token(server):
    async with httpx.AsyncClient(base_url=server.http, follow_redirects=False) as browser:
        r = await browser.get("/")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/"
        form = await browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        r = await browser.post("/login", data={"username": server.username,
                                               "password": TEST_PASSWORD, "csrf_token": "forged"})
        assert r.status_code == 403 and "expired" in r.text
        r = await browser.post("/login", data={"username": server.username,
                                               "password": TEST_PASSWORD, "csrf_token": token,
                                               "next": "https://evil.example/"})
        assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
        assert (await browser.get("/")).status_code == 200
        signup = await browser.get("/signup")
        assert 'name="display_name"' in signup.text


async def test_login_throttling_stops_password_guessing(server):
    async with httpx.AsyncClient(base_url=server.http) as attacker:
        for _ in range(5):
            r = await attacker.post("/api/auth/login",
                                    json={"username": server.username, "password": "guess"})
            assert r.status_code == 401
        r = await attacker.post("/api/auth/login",
                                json={"username": server.username, "password": TEST_PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        # an address has four times as many tries (an office shares one) ...
        for i in range(15):
            r = await attacker.post("/api/auth/login",
                                    json={"username": f"someone-{i}", "password": "y"})
            assert r.status_code == 401
        # ... and then every account is throttled from it
        r = await attacker.post("/api/auth/login", json={"username": "someone", "password": "y"})
        assert r.status_code == 429


async def test_openapi_docs(server):
    async with server.client(token=None) as http:
        schema = (await http.get("/openapi.json")).json()
        page = await http.get("/docs")
    assert "/api/docs/{doc_id}/export.md" in schema["paths"]
    assert "/api/docs/{doc_id}/links" in schema["paths"]
    assert page.status_code == 200 and "swagger" in page.text.lower()
    assert "content-security-policy" not in page.headers  # Swagger UI comes from its CDN


async def test_security_headers(server):
    async with server.client() as http:
        page = await http.get("/login")
        api = await http.get("/api/docs")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    for response in (page, api):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_secret_key_generated_privately_and_never_logged(tmp_path, caplog):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}", data_dir=str(tmp_path))
    async with run_server(settings.model_copy(update={"secret_key": None})):
        pass
    path = tmp_path / "secret.key"
    key = path.read_text()
    assert len(key) >= 48 and (os.stat(path).st_mode & 0o777) == 0o600
    assert key not in caplog.text and key not in repr(settings)
    async with run_server(settings.model_copy(update={"secret_key": None})):
        assert path.read_text() == key  # kept across restarts: sessions survive


@pytest.mark.parametrize("flag", ["false"])
async def test_auth_can_be_switched_off_for_a_private_instance(tmp_path, flag, monkeypatch):
    monkeypatch.setenv("QUIRE_AUTH_REQUIRED", flag)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}")
    assert settings.auth_required is False
    async with run_server(settings) as live, live.client(token=None) as anonymous:
        r = await anonymous.post("/api/docs", json={"title": "open"})
        assert r.status_code == 201


async def test_websocket_uses_the_session_cookie(server):
    import asyncio

    from tests.support.yclient import YClient

    async with httpx.AsyncClient(base_url=server.http) as browser:
        await browser.post("/api/auth/signup", json={"username": "cookie-user",
                                                      "password": "a long password"})
        page = await browser.get("/")
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        doc_id = (await browser.post("/api/docs", json={"title": "t"},
                                     headers={"X-CSRF-Token": csrf})).json()["id"]
        cookie = f"quire_session={browser.cookies['quire_session']}"
    page = {"Origin": server.http}  # a browser says which page opened the socket
    signed_in = YClient(server.ws(doc_id, token=None), headers={"Cookie": cookie, **page})
    await signed_in.connect()
    await signed_in.wait_synced()
    await signed_in.close()
    tampered = YClient(server.ws(doc_id, token=None),
                       headers={"Cookie": cookie[:-3] + "abc", **page})
    await tampered.connect()
    await asyncio.wait_for(tampered.closed.wait(), 5)
    assert tampered.close_code == 4401
    # without an Origin it is not a browser: the cookie is not enough (scripts send tokens)
    scripted = YClient(server.ws(doc_id, token=None), headers={"Cookie": cookie})
    await scripted.connect()
    await asyncio.wait_for(scripted.closed.wait(), 5)
    assert scripted.close_code == 4401


def test_cli_user_create_follows_the_sign_up_rules(tmp_path):
    """`quire user create` refuses what sign-up refuses (a name others could not type or
    @mention, a short password), and creates what it accepts."""
    import subprocess
    import sys

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    quire = [sys.executable, "-m", "server.cli", "user", "create"]
    for name, password, why in [("a b", "long-enough", "Usernames are"),
                                ("x", "long-enough", "Usernames are"),
                                ("<script>", "long-enough", "Usernames are"),
                                ("ada", "short", "at least 8")]:
        done = subprocess.run([*quire, name, "--password", password, "--database-url", db],
                              capture_output=True, text=True)
        assert done.returncode == 1 and why in done.stderr, (name, done.stderr)
    made = subprocess.run([*quire, "ada.l", "--password", "long-enough", "--database-url", db],
                          capture_output=True, text=True)
    assert made.returncode == 0 and "created user ada.l" in made.stdout


async def test_a_refused_sign_up_keeps_what_was_typed_but_the_password(server):
    """Issue 18: a failed sign-up used to clear "Your name"."""
    async with httpx.AsyncClient(base_url=server.http, follow_redirects=False) as browser:
        form = await browser.get("/signup")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        r = await browser.post("/signup", data={
            "username": "zoë", "display_name": "Zoë <b>Ng</b>", "password": "long-enough-1",
            "csrf_token": token})
        assert r.status_code in (400, 422), r.status_code
        assert 'value="Zoë &lt;b&gt;Ng&lt;/b&gt;"' in r.text  # kept, escaped
        assert 'value="zoë"' in r.text
        assert "long-enough-1" not in r.text


async def test_a_username_with_a_trailing_newline_is_refused(server):
    async with httpx.AsyncClient(base_url=server.http) as browser:
        r = await browser.post("/api/auth/signup", json={"username": "eve\n",
                                                         "password": "long enough pw"})
        assert r.status_code == 422
