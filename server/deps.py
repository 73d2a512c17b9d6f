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


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_rooms(request: Request) -> Rooms:
    return request.app.state.rooms


def get_access_watch(request: Request) -> AccessWatch:
    return request.app.state.access_watch


def get_search(request: Request) -> SearchIndexer:
    return request.app.state.search


def get_notifier(request: Request) -> Notifier:
    return request.app.state.notifier


def get_inbox(request: Request) -> Inbox:
    return request.app.state.inbox


def get_passwords(request: Request) -> PasswordWork:
    return request.app.state.passwords


def client_address(request: Request) -> str:
    """The client's address (a trusted proxy's word for it: server/proxies.py)."""
    return request.client.host if request.client else "?"


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
RoomsDep = Annotated[Rooms, Depends(get_rooms)]


def get_cpu(request: Request) -> CpuPool:
    return request.app.state.cpu


CpuDep = Annotated[CpuPool, Depends(get_cpu)]
AccessWatchDep = Annotated[AccessWatch, Depends(get_access_watch)]
PasswordsDep = Annotated[PasswordWork, Depends(get_passwords)]
SearchDep = Annotated[SearchIndexer, Depends(get_search)]
ClientAddress = Annotated[str, Depends(client_address)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]
InboxDep = Annotated[Inbox, Depends(get_inbox)]
