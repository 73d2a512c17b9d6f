"""REST: a document's pending suggestions (issue 15), and deciding them.

Readers list them; editors and the owner accept or reject one, or all (optionally one author's),
applied in the live room as one server change that everyone receives and that is stored before
the answer. What the text "as it stands" means and how a decision changes it: crdt/suggestions.py.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel

from crdt.suggestions import list_suggestions, resolve
from server.access import CanEdit, CanView
from server.deps import EngineDep, RoomsDep
from server.routes.comments import _persisted
from storage import accounts

router = APIRouter(prefix="/api/docs/{doc_id}/suggestions", tags=["suggestions"])

SUGGESTION_ID = r"^[A-Za-z0-9_-]{1,64}$"


class SuggestionPublic(BaseModel):
    id: str
    kind: str  # insert | delete | replace
    author: str | None  # account id
    author_name: str | None
    at: float | None  # ms since the epoch, as the browser wrote it
    inserted: str
    deleted: str
    passage: str


class Decided(BaseModel):
    changed: int


def _names(engine, ids: set[str]) -> dict[str, str]:
    users = accounts.users_by_id(engine, sorted(ids)[:200])
    return {user_id: user.display_name for user_id, user in users.items()}


@router.get("", response_model=list[SuggestionPublic])
async def pending(doc_id: str, access: CanView, rooms: RoomsDep, engine: EngineDep):
    """Pending suggestions in the order of the text."""
    room = await rooms.with_room(doc_id)
    found = [s.public() for s in list_suggestions(room.doc)]
    names = await asyncio.to_thread(_names, engine, {s["author"] for s in found if s["author"]})
    return [SuggestionPublic(**s, author_name=names.get(s["author"] or "")) for s in found]


async def _decide(rooms, doc_id: str, *, accept: bool, ids: set[str] | None,
                  author: str | None = None) -> Decided:
    room = await rooms.with_room(doc_id)
    if ids is not None and not any(s.id in ids for s in list_suggestions(room.doc)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such pending suggestion")
    changed = resolve(room.doc, accept=accept, ids=ids, author=author)
    await _persisted(room)
    return Decided(changed=changed)


@router.post("/{suggestion_id}/accept", response_model=Decided)
async def accept(doc_id: str, access: CanEdit, rooms: RoomsDep,
                 suggestion_id: str = Path(pattern=SUGGESTION_ID)):
    return await _decide(rooms, doc_id, accept=True, ids={suggestion_id})


@router.post("/{suggestion_id}/reject", response_model=Decided)
async def reject(doc_id: str, access: CanEdit, rooms: RoomsDep,
                 suggestion_id: str = Path(pattern=SUGGESTION_ID)):
    return await _decide(rooms, doc_id, accept=False, ids={suggestion_id})


@router.post("/accept-all", response_model=Decided)
async def accept_all(doc_id: str, access: CanEdit, rooms: RoomsDep,
                     author: str | None = Query(default=None, max_length=100)):
    return await _decide(rooms, doc_id, accept=True, ids=None, author=author)


@router.post("/reject-all", response_model=Decided)
async def reject_all(doc_id: str, access: CanEdit, rooms: RoomsDep,
                     author: str | None = Query(default=None, max_length=100)):
    return await _decide(rooms, doc_id, accept=False, ids=None, author=author)
