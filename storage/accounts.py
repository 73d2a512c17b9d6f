"""Accounts and personal API tokens. Passwords and tokens arrive already hashed."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import ApiToken, User, utcnow


class UsernameTaken(ValueError):
    pass


def create_user(engine: Engine, *, username: str, display_name: str,
                password_hash: str, email: str | None = None) -> User:
    with Session(engine) as session:
        user = User(id=secrets.token_urlsafe(12), username=username.lower(),
                    display_name=display_name, password_hash=password_hash, email=email)
        session.add(user)
        try:
            session.commit()
        except IntegrityError as exc:
            raise UsernameTaken(username) from exc
        session.refresh(user)
        return user


def get_user(engine: Engine, *, user_id: str) -> User | None:
    with Session(engine) as session:
        return session.get(User, user_id)


def users_by_id(engine: Engine, user_ids: list[str]) -> dict[str, User]:
    """The accounts among `user_ids` that exist, by id, in one query."""
    if not user_ids:
        return {}
    with Session(engine) as session:
        users = session.exec(select(User).where(col(User.id).in_(user_ids))).all()
        return {user.id: user for user in users}


def get_user_by_username(engine: Engine, *, username: str) -> User | None:
    with Session(engine) as session:
        return session.exec(select(User).where(User.username == username.lower())).first()


def add_api_token(engine: Engine, *, user_id: str, token_hash: str, name: str) -> ApiToken:
    with Session(engine) as session:
        token = ApiToken(id=secrets.token_urlsafe(12), user_id=user_id, token_hash=token_hash,
                         name=name)
        session.add(token)
        session.commit()
        session.refresh(token)
        return token


def revoke_api_token(engine: Engine, *, user_id: str, token_id: str) -> bool:
    with Session(engine) as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.user_id != user_id or token.revoked_at is not None:
            return False
        token.revoked_at = utcnow()
        session.add(token)
        session.commit()
        return True
