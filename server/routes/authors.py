"""REST: who wrote what in a document (issue 15): its plain text in runs by author.

Attribution is the server's own record of which account sent each Yjs client id
(crdt/authors.py); the names are the accounts' current display names.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pycrdt import Doc
from pydantic import BaseModel

from crdt.authors import AuthorRun, author_runs, owners
from crdt.budget import Deadline
from server.access import CanView
from server.cpu import refusals
from server.deps import CpuDep, EngineDep, RoomsDep, SettingsDep
from storage import accounts

router = APIRouter(prefix="/api/docs/{doc_id}/authors", tags=["authors"])

LINK_GUEST = "Someone with the link"


class Author(BaseModel):
    id: str  # an account id, or "link:<share id>"
    name: str
    username: str | None
    characters: int  # of the text (line breaks between blocks not counted)


class Run(BaseModel):
    text: str
    author: str | None  # an account id; None when nobody was recorded for it


class Authorship(BaseModel):
    authors: list[Author]  # most text first
    runs: list[Run]  # in order; their texts joined are the document's plain text


def runs_of(doc: Doc[Any], *, deadline: Deadline) -> tuple[list[AuthorRun], dict[str, str | None]]:
    """The runs and the name each author had when recorded (on the CPU pool: `doc` private)."""
    names = {owner.account: owner.name for owner in owners(doc).values()}
    return author_runs(doc, deadline), names


def runs_of_state(state: bytes, *, deadline: Deadline
                  ) -> tuple[list[AuthorRun], dict[str, str | None]]:
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    return runs_of(doc, deadline=deadline)


def _people(engine: Any, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    users = accounts.users_by_id(engine, [i for i in ids if not i.startswith("link:")])
    return {user_id: (user.display_name, user.username) for user_id, user in users.items()}


async def public(engine: Any, runs: list[AuthorRun], recorded_names: dict[str, str | None]
                 ) -> Authorship:
    counts: dict[str, int] = {}
    for run in runs:
        if run.account is not None:
            counts[run.account] = counts.get(run.account, 0) + len(run.text.replace("\n", ""))
    ordered = sorted(counts, key=lambda account: -counts[account])
    people = await asyncio.to_thread(_people, engine, ordered)
    authors = []
    for account in ordered:
        name, username = people.get(account, (None, None))
        if name is None:
            name = (recorded_names.get(account) or LINK_GUEST) if account.startswith("link:") \
                else (recorded_names.get(account) or "A former account")
        authors.append(Author(id=account, name=name, username=username,
                              characters=counts[account]))
    return Authorship(authors=authors,
                      runs=[Run(text=run.text, author=run.account) for run in runs])


@router.get("", response_model=Authorship)
async def document_authors(doc_id: str, access: CanView, rooms: RoomsDep, engine: EngineDep,
                           cpu: CpuDep, settings: SettingsDep) -> Authorship:
    """The document's text as it stands, in runs by the account that typed it."""
    room = await rooms.with_room(doc_id)
    state = room.doc.get_update()  # the live doc is read on the event loop only
    budget = settings.markdown_budget_seconds
    with refusals(budget):
        runs, names = await cpu.run_budgeted(budget, runs_of_state, state)
    return await public(engine, runs, names)
