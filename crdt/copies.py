"""A copy of a document ("Make a copy"): its text and formatting as they stand, under a new
title, with or without its comments, its own images renamed for the copy.

The copy starts from the source's whole state (so every mark, attribute and pending suggestion
is kept exactly as the editor wrote it) and changes it with ordinary edits: the title, and
without comments the thread data (map "comments") and every ``comment`` mark in the text (see
crdt/COMMENTS.md). Deleted content is garbage-collected by pycrdt, so removed threads leave no
text behind in the copy's bytes. Pure functions over bytes: run them off the event loop.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from crdt.budget import Deadline
from crdt.comment_marks import _thread_of
from crdt.images import rewrite_sources, stored_image
from crdt.meta import set_title
from crdt.plain_text import walk

COMMENTS = "comments"


def strip_comments(doc: Doc[Any], deadline: Deadline | None = None) -> int:
    """Remove every comment thread and every ``comment`` mark from `doc`; how many threads
    there were. (Marks naming threads that are gone go too.)"""
    tick = (deadline or Deadline(None)).tick
    with doc.transaction():
        for run in walk(doc)[1]:
            tick()
            keys = {key: None for key, value in run.attrs.items()
                    if _thread_of(key, value) is not None}
            if keys and run.node is not None:
                run.node.format(run.index, run.index + len(run.text.encode("utf-8")), keys)
        threads = doc.get(COMMENTS, type=Map)
        count = len(threads)
        threads.clear()
    return count


def moved_image(src: str, *, source_id: str, doc_id: str) -> str | None:
    """`src` renamed from the source document to the copy, when it names an image Quire stores
    for the source; else None (left as it is)."""
    found = stored_image(src)
    if found is None or found[0] != source_id:
        return None
    return src.replace(f"/api/docs/{source_id}/images/", f"/api/docs/{doc_id}/images/", 1)


def copy_state(state: bytes, *, source_id: str, doc_id: str, title: str, comments: bool,
               deadline: Deadline | None = None) -> bytes:
    """The first update of a copy of the document whose encoded state is `state`: titled
    `title`, its comments kept only if `comments`, its images named under `doc_id`."""
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    with doc.transaction():
        set_title(doc, title)
        if not comments:
            strip_comments(doc, deadline)
        rewrite_sources(doc, lambda src: moved_image(src, source_id=source_id, doc_id=doc_id))
    return doc.get_update()
