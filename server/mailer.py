"""Notification emails: one digest per person, sent through `QUIRE_SMTP_URL`.

`Mailer.run` (a lifespan task, only when SMTP is configured) looks every few seconds for people
whose oldest unread, not yet emailed notification is `digest_seconds` old, and sends each of them
one email with everything pending of the kinds they chose (storage/notifications.py: all,
mentions and invitations only, none). A notification is marked emailed only once the mail server
accepted the message; a refused or unreachable server is retried with a doubling wait (up to
`retry_max`), so a mail server that is down loses nothing and holds up nothing else: sending runs
in a worker thread, never on the event loop. Read notifications are not emailed.

Every email carries a link to unsubscribe (and the List-Unsubscribe headers, RFC 8058, for a mail
client's own button): it names the account and is signed with the server's secret key.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sqlalchemy.engine import Engine

from storage import notifications
from storage.models import Notification, utcnow

log = logging.getLogger("quire.mail")
SMTP_TIMEOUT = 15.0


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte
    starttls: str  # "auto" (when offered), "require" or "never"
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """smtp://[user:password@]host[:port][?starttls=auto|require|never] or smtps://…"""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("QUIRE_SMTP_URL must look like smtp://host:port or smtps://host:port")
        starttls = parse_qs(parts.query).get("starttls", ["auto"])[0]
        if starttls not in ("auto", "require", "never"):
            raise ValueError("starttls must be auto, require or never")
        tls = parts.scheme == "smtps"
        return cls(host=parts.hostname, port=parts.port or (465 if tls else 587), tls=tls,
                   starttls=starttls,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)


def send(target: SmtpTarget, message: EmailMessage) -> None:
    """Hand `message` to the mail server (blocking). Raises on any refusal or failure."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if target.tls:
        smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
    with smtp:
        smtp.ehlo()
        if not target.tls and target.starttls != "never":
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif target.starttls == "require":
                raise smtplib.SMTPException("the mail server does not offer STARTTLS")
        if target.username:
            smtp.login(target.username, target.password or "")
        smtp.send_message(message)


def unsubscribe_signature(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), f"unsubscribe:{user_id}".encode(), hashlib.sha256).hexdigest()


def unsubscribe_url(public_url: str, secret: str, user_id: str) -> str:
    return (f"{public_url}/unsubscribe?u={quote(user_id)}"
            f"&s={unsubscribe_signature(secret, user_id)}")


def valid_unsubscribe(secret: str, user_id: str, signature: str) -> bool:
    # compared as bytes: compare_digest refuses str with anything but ASCII in it
    return hmac.compare_digest(unsubscribe_signature(secret, user_id).encode(),
                               signature.encode("utf-8", "surrogatepass"))


def _line(note: Notification, title: str) -> str:
    who = note.actor_name or "Someone"
    if note.kind == "mention" and not note.actor_name:  # in the text: nobody is recorded
        return f"You were mentioned in “{title}”"
    if note.kind == "mention":
        return f"{who} mentioned you in “{title}”"
    if note.kind == "reply":
        return f"{who} replied in “{title}”"
    if note.kind == "assigned":
        return f"{who} assigned you a comment in “{title}”"
    return f"{who} shared “{title}” with you ({note.excerpt.removeprefix('as ')})"


def compose(digest: notifications.Digest, *, sender: str, public_url: str,
            secret: str) -> EmailMessage:
    """The digest email: one entry per notification, quoting the passage and the message."""
    items = digest.items
    user = digest.user
    subject = (_line(*items[0]) if len(items) == 1
               else f"{len(items)} new notifications in Quire")
    unsubscribe = unsubscribe_url(public_url, secret, user.id)
    lines = [f"Hello {user.display_name},", ""]
    for note, title in items:
        link = f"{public_url}/d/{note.doc_id}" + (f"?thread={note.thread_id}" if note.thread_id else "")
        lines.append(_line(note, title) + ":")
        if note.kind != "share" and note.quote:
            lines.append(f"  > {note.quote}")
        if note.kind != "share" and note.excerpt:
            lines.append(f"  {note.excerpt}")
        lines += [f"  Open: {link}", ""]
    lines += [
        "—",
        f"You get these emails as {user.username} on Quire. Choose which ones: {public_url}/account",
        f"Stop all Quire emails: {unsubscribe}",
    ]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = formataddr((user.display_name, user.email or ""))
    message["Message-ID"] = make_msgid(domain="quire")
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join(lines))
    return message


class Mailer:
    def __init__(self, engine: Engine, *, smtp_url: str, sender: str, public_url: str,
                 secret: str, digest_seconds: float, retry_max: float = 600.0) -> None:
        self.engine = engine
        self.target = SmtpTarget.parse(smtp_url)
        self.sender = sender
        self.public_url = public_url.rstrip("/")
        self.secret = secret
        self.digest_seconds = digest_seconds
        self.retry_max = retry_max
        self.poll = min(max(digest_seconds / 10, 0.1), 15.0)
        self.sent = 0
        self.failures = 0
        self._retry_at: dict[str, tuple[float, float]] = {}  # user id -> (when, last wait)

    async def run(self) -> None:
        """Send digests as they fall due (the lifespan owns this task)."""
        while True:
            try:
                await self.send_due()
            except Exception:
                log.exception("looking for notification emails to send failed")
            await asyncio.sleep(self.poll)

    async def send_due(self) -> int:
        """Send every digest that is due now; returns how many were sent."""
        older_than = utcnow() - timedelta(seconds=self.digest_seconds)
        digests = await asyncio.to_thread(notifications.due_digests, self.engine,
                                          older_than=older_than)
        sent = 0
        now = time.monotonic()
        for digest in digests:
            retry = self._retry_at.get(digest.user.id)
            if retry is not None and retry[0] > now:
                continue
            message = compose(digest, sender=self.sender, public_url=self.public_url,
                              secret=self.secret)
            try:
                await asyncio.to_thread(send, self.target, message)
            except Exception as exc:  # refused, unreachable, timed out: try again later
                wait = min(max((retry[1] if retry else 0) * 2, self.poll * 2, 1.0), self.retry_max)
                self._retry_at[digest.user.id] = (time.monotonic() + wait, wait)
                self.failures += 1
                log.warning("notification email to account %s not sent (%s); next try in %.0f s",
                            digest.user.id, exc.__class__.__name__, wait)
                continue
            self._retry_at.pop(digest.user.id, None)
            await asyncio.to_thread(notifications.mark_emailed, self.engine,
                                    ids=[n.id for n, _ in digest.items if n.id is not None])
            self.sent += 1
            sent += 1
        return sent
