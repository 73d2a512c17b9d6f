"""Shared objects for routes, as Annotated dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from crdt.rooms import Rooms
from server.config import Settings
from server.cpu import CpuPool
from server.liveaccess import AccessWatch
from server.notify import Inbox, Notifier
from server.search import SearchIndexer
from server.security import PasswordWork
from server.state import app_state


def get_settings(request: Request) -> Settings:
    return app_state(request).settings


def get_engine(request: Request) -> Engine:
    return app_state(request).engine


def get_rooms(request: Request) -> Rooms:
    return app_state(request).rooms


def get_access_watch(request: Request) -> AccessWatch:
    return app_state(request).access_watch


def get_search(request: Request) -> SearchIndexer:
    return app_state(request).search


def get_notifier(request: Request) -> Notifier:
    return app_state(request).notifier


def get_inbox(request: Request) -> Inbox:
    return app_state(request).inbox


def get_passwords(request: Request) -> PasswordWork:
    return app_state(request).passwords


def client_address(request: Request) -> str:
    """The client's address (a trusted proxy's word for it: server/proxies.py)."""
    return request.client.host if request.client else "?"


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
RoomsDep = Annotated[Rooms, Depends(get_rooms)]


def get_cpu(request: Request) -> CpuPool:
    return app_state(request).cpu


CpuDep = Annotated[CpuPool, Depends(get_cpu)]
AccessWatchDep = Annotated[AccessWatch, Depends(get_access_watch)]
PasswordsDep = Annotated[PasswordWork, Depends(get_passwords)]
SearchDep = Annotated[SearchIndexer, Depends(get_search)]
ClientAddress = Annotated[str, Depends(client_address)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]
InboxDep = Annotated[Inbox, Depends(get_inbox)]
