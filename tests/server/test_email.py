"""Notification emails through a real SMTP server (aiosmtpd, on 127.0.0.1): a mention becomes
one digest email to the right address, quoting the passage and the message, with a working link;
several notifications within the digest window become one email; a person who chose fewer or no
emails gets what they chose; the unsubscribe link works (and a forged one does nothing); a mail
server that is down loses nothing — the digest goes out once it is back."""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import Message
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller

from server.config import Settings
from storage import notifications
from storage.accounts import get_user_by_username
from tests.server.test_comments_api import write_paragraphs
from tests.support.accounts import make_account
from tests.support.servers import free_port, run_server
from tests.support.yclient import eventually

DIGEST = 0.6


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def settings(sqlite_url: str, port: int, digest: float = DIGEST) -> Settings:
    return Settings(database_url=sqlite_url, unload_after=0.2,
                    smtp_url=f"smtp://127.0.0.1:{port}?starttls=never",
                    email_digest_seconds=digest, email_retry_max_seconds=0.5,
                    public_url="http://quire.test")




async def setup(server, *, choice: str = "all") -> tuple[str, str, str]:
    """A document with a passage, and Bea (bea@example.com, invited as commenter)."""
    doc_id = await server.new_doc("Q3 white paper")
    room = await server.rooms.with_room(doc_id)
    write_paragraphs(room.doc, "Our edge nodes serve 40% of traffic.")
    await room.drain()
    _, bea = await asyncio.to_thread(make_account, server.engine, "bea")
    user = await asyncio.to_thread(get_user_by_username, server.engine, username="bea")
    await asyncio.to_thread(notifications.set_email, server.engine, user_id=user.id,
                            email="bea@example.com", choice=choice)
    async with server.client() as owner:
        r = await owner.post(f"/api/docs/{doc_id}/shares", json={"username": "bea",
                                                                 "role": "commenter"})
        assert r.status_code == 201
    return doc_id, bea, user.id


async def comment(server, doc_id: str, body: str, token: str = "") -> str:
    async with server.client(token) as client:
        r = await client.post(f"/api/docs/{doc_id}/comments",
                              json={"quote": "40% of traffic", "body": body})
        assert r.status_code == 201, r.text
        return r.json()["id"]


def text_of(message: Message) -> str:
    return message.get_content()


async def test_notifications_within_the_window_make_one_digest_with_quotes_and_links(smtp, sqlite_url):
    controller, inbox = smtp
    # the window opens with the invitation and must hold all three comments: a slow machine
    # took over 0.6 s for them (two emails, not one)
    window = 2.5
    async with run_server(settings(sqlite_url, controller.port, digest=window)) as server:
        doc_id, bea, _ = await setup(server, choice="all")
        thread = await comment(server, doc_id, "@bea can you check this number?")
        await comment(server, doc_id, "@bea and this one")
        await comment(server, doc_id, "@bea last one, promise")
        await eventually(lambda: inbox.messages, timeout=window * 3)
        # anything left unsent was created before that email, so it would fall due within a window
        await asyncio.sleep(window + 0.5)
        assert len(inbox.messages) == 1
        to, message = inbox.messages[0]
        assert to == ["bea@example.com"]
        assert message["To"] == "Bea <bea@example.com>"
        assert message["Subject"] == "4 new notifications in Quire"  # the invitation too
        body = text_of(message)
        assert "Tester mentioned you in “Q3 white paper”" in body
        assert "> 40% of traffic" in body
        assert "@bea can you check this number?" in body and "@bea last one, promise" in body
        link = f"http://quire.test/d/{doc_id}?thread={thread}"
        assert link in body
        async with server.client(bea) as client:  # the link opens the document for Bea
            r = await client.get(urlsplit(link).path + "?" + urlsplit(link).query)
            assert r.status_code == 200
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # once emailed, a later mention makes a second, separate email
        await comment(server, doc_id, "@bea one more thing")
        await eventually(lambda: len(inbox.messages) == 2, timeout=window * 3)
        assert inbox.messages[1][1]["Subject"] == "Tester mentioned you in “Q3 white paper”"


async def test_each_person_gets_the_emails_they_chose(smtp, sqlite_url):
    controller, inbox = smtp
    async with run_server(settings(sqlite_url, controller.port)) as server:
        doc_id, bea, bea_id = await setup(server, choice="mentions")
        _, cid = await asyncio.to_thread(make_account, server.engine, "cid")
        cid_user = await asyncio.to_thread(get_user_by_username, server.engine, username="cid")
        await asyncio.to_thread(notifications.set_email, server.engine, user_id=cid_user.id,
                                email="cid@example.com", choice="none")
        async with server.client() as owner:
            await owner.post(f"/api/docs/{doc_id}/shares", json={"username": "cid",
                                                                 "role": "commenter"})
        thread = await comment(server, doc_id, "Opening remark", token=bea)
        async with server.client() as owner:  # a reply to Bea: she chose mentions only
            await owner.post(f"/api/docs/{doc_id}/comments/{thread}/replies",
                             json={"body": "A reply, and @cid"})
        await asyncio.sleep(DIGEST * 4)
        sent = {tuple(to): m for to, m in inbox.messages}
        assert list(sent) == [("bea@example.com",)]  # Cid chose none
        body = text_of(sent[("bea@example.com",)])
        assert "shared “Q3 white paper” with you (commenter)" in body
        assert "replied" not in body


async def test_the_unsubscribe_link_stops_emails_and_a_forged_one_does_nothing(smtp, sqlite_url):
    controller, inbox = smtp
    async with run_server(settings(sqlite_url, controller.port)) as server:
        doc_id, _, bea_id = await setup(server)
        await eventually(lambda: inbox.messages)  # the invitation's email
        body = text_of(inbox.messages[0][1])
        link = next(line.split(": ", 1)[1] for line in body.splitlines()
                    if line.startswith("Stop all Quire emails: "))
        path = urlsplit(link).path + "?" + urlsplit(link).query
        async with httpx.AsyncClient(base_url=server.http) as anyone:
            forged = path[:-4] + ("0000" if not path.endswith("0000") else "1111")
            assert (await anyone.post(forged)).status_code == 400
            page = await anyone.get(path)  # a link checker's GET changes nothing
            assert page.status_code == 200 and "Unsubscribe" in page.text
            user = await asyncio.to_thread(get_user_by_username, server.engine, username="bea")
            assert user.email_notifications == "all"
            done = await anyone.post(path, content=b"List-Unsubscribe=One-Click")
            assert done.status_code == 200 and "no more notification emails" in done.text
        user = await asyncio.to_thread(get_user_by_username, server.engine, username="bea")
        assert user.email_notifications == "none"
        await comment(server, doc_id, "@bea are you there?")
        await asyncio.sleep(DIGEST * 3)
        assert len(inbox.messages) == 1
        # the inbox in the app still has it
        page = await asyncio.to_thread(notifications.list_for, server.engine, user_id=bea_id)
        assert [n.kind for n, _ in page] == ["mention", "share"]


async def test_a_mail_server_that_is_down_loses_nothing(sqlite_url):
    port = free_port()  # nothing listens here yet
    async with run_server(settings(sqlite_url, port)) as server:
        doc_id, _, _ = await setup(server)
        await comment(server, doc_id, "@bea while the mail server is down")
        await eventually(lambda: server.app.state.mailer.failures >= 2)
        assert server.app.state.mailer.sent == 0
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            await eventually(lambda: inbox.messages, timeout=15)
            await asyncio.sleep(DIGEST * 2)
            assert len(inbox.messages) == 1
            body = text_of(inbox.messages[0][1])
            assert "@bea while the mail server is down" in body and "shared" in body
        finally:
            controller.stop()
        async with server.client() as owner:  # the server answered all along
            assert (await owner.get("/healthz")).status_code == 200
