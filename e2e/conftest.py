"""Browser end-to-end fixtures: a real `quire serve` subprocess and Chromium via Playwright.

- `quire`: one server per test session on a free port with a temp SQLite database and the
  default settings (accounts and roles on); it can be killed and restarted on the same port,
  database and secret key (sessions survive) mid-test.
- `people`: a factory of simulated people. Each person gets their own browser context (their own
  cookies and storage, no BroadcastChannel shortcut between them) and a record of console
  errors and page errors that must stay empty. By default a person signs up (an account whose
  display name is their name; the session cookie lands in their context); `account=False`
  makes a visitor who only has a share link.

Chromium: Debian's /usr/bin/chromium (Playwright cannot download browsers here). Without it the
tests skip, except under CI=true where they fail.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.servers import QuireProcess

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
BUNDLE = ROOT / "frontend" / "static" / "dist" / "editor.js"
ARTIFACTS = ROOT / "artifacts"
IN_CI = os.environ.get("CI") == "true"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test is slow (a browser, a subprocess): `make test-fast` leaves them out."""
    for item in items:
        if item.nodeid.startswith("e2e/"):
            item.add_marker(pytest.mark.slow)


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


PASSWORD = "correct horse battery"


class QuireServer(QuireProcess):
    """`quire serve` as a subprocess (tests/support/servers.py), accounts on unless auth=False
    (measure.py runs a private instance). kill() and start() keep the same port, database and
    secret key, so sessions survive a restart."""

    def __init__(self, workdir: Path, *, auth: bool = True) -> None:
        # every simulated person signs up from 127.0.0.1
        super().__init__(workdir, auth=auth, env={"QUIRE_SIGNUPS_PER_HOUR": "100000"})

    @property
    def url(self) -> str:
        """The base URL pages are opened at."""
        return self.http


@pytest.fixture(scope="session")
def quire_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuireServer]:
    _require(BUNDLE.exists(), f"frontend bundle missing ({BUNDLE}); run `make frontend`")
    server = QuireServer(tmp_path_factory.mktemp("quire-e2e"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def quire(quire_process: QuireServer) -> Iterator[QuireServer]:
    """The session's server; a test that killed it and failed does not leave the next without."""
    if not quire_process.running:
        quire_process.start()
    yield quire_process
    if not quire_process.running:
        quire_process.start()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _require(CHROMIUM.exists(), "browser tests need /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Chromium reports a refused or dropped WebSocket as a console error. Tests that take the server
# down or the network away allow exactly these.
NETWORK_ERRORS = [
    re.compile(r"WebSocket connection to '.*' failed"),
    re.compile(r"Failed to load resource: net::ERR_(CONNECTION_REFUSED|INTERNET_DISCONNECTED|CONNECTION_RESET|EMPTY_RESPONSE)"),
    # the live notification count's stream (server-sent events) cut by a server that died
    re.compile(r"Failed to load resource: net::ERR_INCOMPLETE_CHUNKED_ENCODING"),
]


_usernames = itertools.count(1)


def username_for(name: str | None) -> str:
    """A unique username (2–40 of [A-Za-z0-9_.-]) that still says whose it is."""
    stem = re.sub(r"[^a-z0-9]", "", (name or "").lower())[:20] or "user"
    return f"{stem}-{next(_usernames)}"


class Person:
    """One simulated person: their own browser context and page, and (account=True) an account
    signed in through the JSON API, with the session cookie in that context."""

    def __init__(self, browser, server: QuireServer, name: str | None, color: str,
                 viewport: dict, account: bool = True) -> None:
        self.name = name
        self.server = server
        self.context = browser.new_context(viewport=viewport, base_url=server.url)
        self.username: str | None = None
        self._csrf: str | None = None
        if account:
            self.sign_up()
        if name is not None or account:
            # the colour (and, without an account, the name) this browser remembers
            identity = json.dumps({"name": name or "Guest", "color": color, "chosen": name is not None})
            self.context.add_init_script(
                f"try {{ localStorage.setItem('quire.user', {json.dumps(identity)}) }} catch (e) {{}}")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.closed = False

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(pattern.search(text) for pattern in self.allowed):
            return
        self.errors.append(f"console.error: {text}")

    def allow_network_errors(self) -> None:
        self.allowed.extend(NETWORK_ERRORS)

    # ---- the account and the REST API, as this person (their cookies) ----
    def sign_up(self) -> None:
        self.username = username_for(self.name)
        response = self.context.request.post("/api/auth/signup", data={
            "username": self.username, "password": PASSWORD, "display_name": self.name or self.username})
        assert response.status == 201, response.text()
        self._csrf = None

    @property
    def csrf(self) -> str:
        """This session's CSRF token, read from a page as the browser code does."""
        if self._csrf is None:
            html = self.context.request.get("/").text()
            match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
            assert match, "no CSRF token on the dashboard: not signed in?"
            self._csrf = match.group(1)
        return self._csrf

    def api(self, method: str, path: str, json_body: dict | None = None, *, ok: bool = True):
        """A REST call with this person's cookies (and CSRF token for writes). ok=True: must succeed."""
        headers = {} if method == "GET" else {"X-CSRF-Token": self.csrf}
        response = self.context.request.fetch(path, method=method, headers=headers,
                                              data=json_body if json_body is not None else None)
        if ok:
            assert response.ok, f"{method} {path}: {response.status} {response.text()}"
        return response

    def new_doc(self, title: str = "E2E document", *, editors: tuple[Person, ...] = ()) -> str:
        """A document this person owns, shared as editor with `editors`."""
        doc_id = self.api("POST", "/api/docs", {"title": title}).json()["id"]
        for other in editors:
            self.invite(doc_id, other, "editor")
        return doc_id

    def invite(self, doc_id: str, other: Person, role: str) -> dict:
        return self.api("POST", f"/api/docs/{doc_id}/shares", {"username": other.username, "role": role}).json()

    def share_link(self, doc_id: str, role: str) -> dict:
        """A new share link: {"id", "token", "url", ...}."""
        return self.api("POST", f"/api/docs/{doc_id}/links", {"role": role}).json()

    def content(self, doc_id: str) -> dict:
        """The server's live copy (text and editor JSON), read with this person's access."""
        return self.api("GET", f"/api/docs/{doc_id}/content").json()

    def doc(self, doc_id: str) -> dict:
        return self.api("GET", f"/api/docs/{doc_id}").json()

    # ---- the editor page ----
    def open(self, doc_id: str, *, token: str | None = None, state: str = "saved") -> None:
        """Open the editor (with a share link's token) and wait until it knows this person's
        role and shows `state` ("saved"; "readonly" for a viewer)."""
        self.page.goto(f"/d/{doc_id}" + (f"?token={token}" if token else ""))
        self.page.locator("#editor .ProseMirror").wait_for()
        self.page.locator("body[data-role]").wait_for(state="attached")
        self.expect_state(state)

    def open_link(self, url: str, *, state: str = "saved") -> None:
        """Open a share link as the server made it."""
        parts = urlsplit(url)
        self.page.goto(f"{parts.path}?{parts.query}")
        self.page.locator("#editor .ProseMirror").wait_for()
        self.page.locator("body[data-role]").wait_for(state="attached")
        self.expect_state(state)

    @property
    def editor(self):
        return self.page.locator("#editor .ProseMirror")

    def expect_state(self, kind: str, timeout: float = 10_000) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator("#save-state")).to_have_attribute("data-kind", kind, timeout=timeout)

    def json(self) -> dict:
        return self.page.evaluate("window.quire.editor.getJSON()")

    def text(self) -> str:
        return self.page.evaluate("window.quire.editor.getText({blockSeparator: '\\n'})")

    def expect_text(self, expected: str, timeout: float = 10_000) -> None:
        """Wait until the document text (carets' name labels excluded) equals `expected`; on a
        timeout the failure says what the page shows instead."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(
                "expected => window.quire && window.quire.editor.getText({blockSeparator: '\\n'}) === expected",
                arg=expected, timeout=timeout)
        except PlaywrightTimeout:
            raise AssertionError(f"{self.name}'s page shows {self.text()!r}, expected {expected!r}") from None

    def expect_contains(self, fragment: str, timeout: float = 10_000) -> None:
        self.page.wait_for_function(
            "part => window.quire && window.quire.editor.getText().includes(part)",
            arg=fragment, timeout=timeout)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.context.close()


@pytest.fixture
def people(browser, quire: QuireServer) -> Iterator[Callable[..., Person]]:
    """people("Ada") -> a signed-up Person with that display name; people("Vic", account=False)
    -> a visitor with only share links (name None: a first-time visitor with no name yet)."""
    created: list[Person] = []
    colors = itertools.cycle(["#1d4ed8", "#b91c1c", "#15803d", "#7c3aed"])

    def make(name: str | None = "Ada", *, viewport: dict | None = None, account: bool = True) -> Person:
        person = Person(browser, quire, name, next(colors), viewport or {"width": 1280, "height": 800},
                        account=account)
        created.append(person)
        return person

    yield make
    problems = [f"{p.name}: {e}" for p in created for e in p.errors]
    for person in created:
        person.close()
    assert not problems, "browser console errors:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
