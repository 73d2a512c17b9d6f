"""Shared objects for routes, as Annotated dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from crdt.rooms import Rooms
from server.config import Settings
from server.cpu import CpuPool


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_rooms(request: Request) -> Rooms:
    return request.app.state.rooms


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
RoomsDep = Annotated[Rooms, Depends(get_rooms)]


def get_cpu(request: Request) -> CpuPool:
    return request.app.state.cpu


CpuDep = Annotated[CpuPool, Depends(get_cpu)]
