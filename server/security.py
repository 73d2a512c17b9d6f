"""Secrets, passwords, tokens, CSRF, and throttling of sign-ins and sign-ups.

- Passwords: argon2id (argon2-cffi), hashed and checked in worker threads (`PasswordWork`).
  Tokens: 32 random bytes, stored as SHA-256 hashes only.
  Personal tokens start `qp_`, share-link tokens `qs_`.
- The session secret is `QUIRE_SECRET_KEY`, else a key generated once into the data folder
  (mode 0600). It is never logged.
- CSRF: a per-session random token; unsafe requests authenticated by the session cookie must
  echo it (header `X-CSRF-Token` or form field `csrf_token`). Bearer-token requests need none.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import math
import os
import re
import secrets
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")
MIN_PASSWORD = 8
# a plausible address: a dot-atom local part (RFC 5322's printable characters: no spaces, control
# characters, angle brackets, commas or quotes, since it goes into an email header as it is) @
# a domain with a dot
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}$")


def valid_email(address: str) -> bool:
    return len(address) <= 254 and _EMAIL.fullmatch(address) is not None


def account_problem(username: str, password: str) -> str | None:
    """Why a new account's username or password is refused (sign-up and `quire user create`
    alike), or None."""
    if not USERNAME.fullmatch(username):  # match() would let "name\n" through ($)
        return "Usernames are 2–40 letters, digits, dots, dashes or underscores."
    if len(password) < MIN_PASSWORD:
        return f"Choose a password of at least {MIN_PASSWORD} characters."
    return None


PERSONAL_PREFIX = "qp_"
LINK_PREFIX = "qs_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not reveal
    usernames. Made once, when the server starts (server/app.py), not at import: every `quire`
    command imports this module, and an argon2 hash is a tenth of a second."""
    return hash_password(secrets.token_urlsafe(16))


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_secret_key(configured: str | None, data_dir: Path) -> str:
    """`QUIRE_SECRET_KEY` if set, else a key kept in `data_dir/secret.key` (made on first run)."""
    if configured:
        return configured
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given and hmac.compare_digest(expected, given))


class BoundedTable(OrderedDict):
    """A dict that forgets its least recently used entries beyond `max_entries`, so a flood
    of distinct keys (guessed usernames, forged addresses) costs a fixed amount of memory."""

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    def touch(self, key, make):
        """The entry for `key` (made with `make()` if absent), now the most recently used."""
        value = self.get(key)
        if value is None:
            value = self[key] = make()
            while len(self) > self.max_entries:
                self.popitem(last=False)
        else:
            self.move_to_end(key)
        return value


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    until: float = 0.0  # no attempt before this (monotonic seconds)
    pending: int = 0  # attempts being checked right now


class LoginThrottle:
    """Exponential back-off after failed sign-ins, per username and per client address.

    Each key has `free` failures (an address `address_factor` times as many: an office behind
    one NAT address shares it); every failure past those doubles the wait, from `base` up to
    `cap` seconds, so a lock always ends. Attempts refused while waiting do not count. An
    attempt holds its place while its password is checked (`begin` ... `end`), so a burst of
    simultaneous guesses gets no more tries than the same guesses one after another. A key's
    failures are forgotten after `forget` seconds without one; a success clears its username
    (not its address: signing in to one's own account between guesses must not reset it). At
    most `max_entries` keys are kept (least recently used go first)."""

    def __init__(self, free: int = 5, forget: float = 3600.0, *, cap: float = 300.0,
                 base: float = 1.0, address_factor: int = 4, max_entries: int = 10_000,
                 clock=time.monotonic) -> None:
        self.free = max(1, free)
        self.forget = forget
        self.cap = cap
        self.base = base
        self.address_factor = address_factor
        self._clock = clock
        self._table: BoundedTable = BoundedTable(max_entries)

    def __len__(self) -> int:
        return len(self._table)

    def _keys(self, username: str, address: str) -> tuple[tuple[str, int], ...]:
        return ((f"user:{username.lower()}", self.free),
                (f"addr:{address}", self.free * self.address_factor))

    def _fresh(self, key: str, now: float) -> _Failures | None:
        entry = self._table.get(key)
        if (entry is not None and not entry.pending and now >= entry.until
                and now - entry.last > self.forget):
            del self._table[key]  # forgotten: its count starts again
            return None
        return entry

    def _wait(self, entry: _Failures, free: int, now: float) -> float:
        if now < entry.until:
            return entry.until - now
        if entry.pending and entry.count + entry.pending >= free:
            return min(1.0, self.cap)  # the attempts already under way use up what is left
        return 0.0

    def retry_after(self, username: str, address: str) -> int:
        """Whole seconds to wait before this username may be tried from this address, else 0."""
        now = self._clock()
        waits = [self._wait(entry, free, now) for key, free in self._keys(username, address)
                 if (entry := self._fresh(key, now)) is not None]
        wait = max(waits, default=0.0)
        return math.ceil(wait) if wait > 0 else 0

    def begin(self, username: str, address: str) -> int:
        """Start an attempt: 0 (then call `end` exactly once), or whole seconds to wait."""
        wait = self.retry_after(username, address)
        if wait:
            return wait
        for key, _ in self._keys(username, address):
            self._table.touch(key, _Failures).pending += 1
        return 0

    def end(self, username: str, address: str, *, ok: bool | None) -> None:
        """The attempt `begin` allowed is over: it succeeded (True), failed (False) or was
        not decided (None: e.g. the server was too busy to check the password)."""
        now = self._clock()
        for key, free in self._keys(username, address):
            entry = self._table.touch(key, _Failures)
            entry.pending = max(0, entry.pending - 1)
            if ok is not False:
                continue
            entry.count += 1
            entry.last = now
            if entry.count >= free:
                entry.until = now + min(self.cap, self.base * 2 ** min(entry.count - free, 32))
        if ok:
            user_key = self._keys(username, address)[0][0]
            entry = self._table.get(user_key)
            if entry is not None:
                entry.count, entry.until = 0, 0.0
                if not entry.pending:
                    del self._table[user_key]


class SignupThrottle:
    """At most `per_hour` new accounts per client address (a token bucket refilling over the
    hour); at most `max_entries` addresses are remembered."""

    def __init__(self, per_hour: int, *, max_entries: int = 10_000, clock=time.monotonic) -> None:
        self.per_hour = per_hour
        self._clock = clock
        self._buckets: BoundedTable = BoundedTable(max_entries)

    def take(self, address: str) -> int:
        """Use one sign-up of `address`: 0 if allowed, else whole seconds until the next one."""
        if self.per_hour <= 0:
            return 3600
        now = self._clock()
        rate = self.per_hour / 3600.0
        bucket = self._buckets.touch(address, lambda: [float(self.per_hour), now])
        tokens = min(float(self.per_hour), bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0
        bucket[0] = tokens
        return math.ceil((1.0 - tokens) / rate)


class HashingBusy(Exception):
    """Too many password hashes are already waiting: answer 503 and let the client retry."""


class PasswordWork:
    """Password hashing and checking (argon2, ~100 ms of CPU each) never on the event loop:
    on `workers` threads of its own, so a flood of sign-ins or sign-ups neither takes the
    default pool's threads (which database calls and /healthz need) nor more than `workers`
    cores. More than `queue` waiting: HashingBusy at once, instead of an ever longer line."""

    def __init__(self, workers: int = 2, queue: int = 64) -> None:
        self._slots = asyncio.Semaphore(max(1, workers))
        # threads of its own: the default pool stays free for database calls
        self._threads = ThreadPoolExecutor(max(1, workers), thread_name_prefix="quire-hash")
        self._queue = queue
        self._waiting = 0

    async def _run(self, fn, *args):
        if self._waiting >= self._queue:
            raise HashingBusy
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        # the slot is given back when the thread is done, even if the request was cancelled
        # meanwhile: a cancelled request must not let more hashes run than there are slots
        job = asyncio.get_running_loop().run_in_executor(self._threads, fn, *args)
        job.add_done_callback(self._finished)
        return await asyncio.shield(job)

    def _finished(self, job: asyncio.Future) -> None:
        self._slots.release()
        if not job.cancelled():
            job.exception()  # retrieved here when nobody awaits it any more

    async def hash(self, password: str) -> str:
        return await self._run(hash_password, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; checks a dummy hash when there is no account, so the
        time taken does not tell whether a username exists."""
        return await self._run(verify_password, password_hash or dummy_hash(), password)
