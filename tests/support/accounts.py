"""Test people, created straight in the database (no server round trip, no sign-up throttle)."""

from __future__ import annotations

TEST_PASSWORD = "correct horse battery"

_PASSWORD_HASH: list[str] = []


def password_hash() -> str:
    """One argon2 hash of TEST_PASSWORD per test run (hashing is deliberately slow)."""
    if not _PASSWORD_HASH:
        from server.security import hash_password

        _PASSWORD_HASH.append(hash_password(TEST_PASSWORD))
    return _PASSWORD_HASH[0]


def make_account(engine, name: str = "tester") -> tuple[str, str]:
    """A user (username, new personal API token), created straight in the database if it is
    not there yet — so servers sharing a database act as the same person."""
    from server.security import PERSONAL_PREFIX, new_token, token_hash
    from storage import accounts

    username = name
    user = accounts.get_user_by_username(engine, username=username)
    if user is None:
        try:
            user = accounts.create_user(engine, username=username,
                                        display_name=username.title(),
                                        password_hash=password_hash())
        except accounts.UsernameTaken:
            user = accounts.get_user_by_username(engine, username=username)
    token = new_token(PERSONAL_PREFIX)
    accounts.add_api_token(engine, user_id=user.id, token_hash=token_hash(token), name="tests")
    return username, token


def link_share(engine, token: str):
    """The active link share a link token stands for (None if there is none), as the server
    reads it (storage/opening.py `sign_ins_for`)."""
    from server.security import token_hash
    from storage.opening import sign_ins_for

    with engine.connect() as conn:
        return sign_ins_for(conn, links=[token_hash(token)]).links.get(token_hash(token))
