"""REST: search across the documents the caller may read (`GET /api/search`)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from server.access import PrincipalDep
from server.deps import EngineDep, SettingsDep
from storage import search
from storage.shares import is_active

router = APIRouter(prefix="/api/search", tags=["search"])


class SearchHit(BaseModel):
    doc_id: str
    title: str
    where: str  # "title", "text" or "comment"
    thread_id: str | None
    snippet: str  # plain text around the match
    highlights: list[tuple[int, int]]  # [start, end) of each matched word in `snippet`
    rank: float


class SearchPage(BaseModel):
    items: list[SearchHit]
    total: int
    query: str  # the words searched for, as understood (quoted phrases in quotes)


@router.get("", response_model=SearchPage)
async def search_documents(
    principal: PrincipalDep,
    engine: EngineDep,
    settings: SettingsDep,
    q: str = Query(max_length=search.MAX_QUERY_CHARS),
    limit: int = Query(default=20, ge=1, le=50),
    offset: int = Query(default=0, ge=0, le=1000),
):
    """Titles, text and comment threads of every document you can read, best first."""
    if settings.auth_required and principal.anonymous:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in first",
                            headers={"WWW-Authenticate": "Bearer"})
    query = search.parse_query(q)
    if query is None:
        return SearchPage(items=[], total=0, query="")
    link = principal.link
    hits, total = await asyncio.to_thread(
        search.search, engine, query,
        user_id=principal.user.id if principal.user else None,
        doc_ids=[link.doc_id] if link is not None and is_active(link) else None,
        everything=not settings.auth_required, limit=limit, offset=offset)
    return SearchPage(
        items=[SearchHit(doc_id=h.doc_id, title=h.title, where=h.kind, thread_id=h.thread_id,
                         snippet=h.snippet, highlights=list(h.highlights), rank=h.rank)
               for h in hits],
        total=total,
        query=" ".join(f'"{" ".join(t)}"' if len(t) > 1 else t[0] for t in query.terms))
