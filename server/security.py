"""Secrets, passwords, tokens, CSRF and login throttling.

- Passwords: argon2id (argon2-cffi). Tokens: 32 random bytes, stored as SHA-256 hashes only.
  Personal tokens start `qp_`, share-link tokens `qs_`.
- The session secret is `QUIRE_SECRET_KEY`, else a key generated once into the data folder
  (mode 0600). It is never logged.
- CSRF: a per-session random token; unsafe requests authenticated by the session cookie must
  echo it (header `X-CSRF-Token` or form field `csrf_token`). Bearer-token requests need none.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections import defaultdict, deque
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
PERSONAL_PREFIX = "qp_"
LINK_PREFIX = "qs_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# a hash to verify against when the user does not exist, so timing does not reveal usernames
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


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
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)


class LoginThrottle:
    """At most `limit` failed sign-ins per username and per client address within `window`
    seconds; further attempts are refused (429) until old failures age out."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def retry_after(self, *keys: str) -> int:
        """Seconds to wait if any key is over the limit, else 0."""
        now = time.monotonic()
        waits = []
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.limit:
                waits.append(int(self.window - (now - failures[0])) + 1)
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
