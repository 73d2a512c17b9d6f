"""Markdown in and out of stored documents, shared by the REST routes and the CLI.

The conversions (`convert_markdown`, `render_state`) are plain functions on text and bytes with
a `Deadline`: the routes run them on the `CpuPool`, never on the event loop, and never on a live
room's Doc (a Doc is not thread-safe: the routes hand over `doc.get_update()` bytes).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pycrdt import Doc
from sqlalchemy.engine import Engine

from crdt import comments
from crdt.authors import Recorded, authors_map, record
from crdt.budget import Deadline
from crdt.gate import stored_state
from crdt.images import rewrite_sources
from crdt.markdown import export_markdown, import_markdown
from crdt.meta import get_title, set_title
from storage import documents as store_docs
from storage.models import Document
from storage.updates import append_updates, load_updates
from storage.versions import list_versions

log = logging.getLogger("quire.markdown")


class ImportError_(ValueError):
    """Markdown that cannot be imported (not UTF-8, too large)."""


def slugify(title: str) -> str:
    """A file name from a title: ascii, lowercase, dashes; "document" when nothing is left."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return slug[:80] or "document"


def load_stored_doc(engine: Engine, doc_id: str) -> Doc:
    """The document as stored (snapshot + log), without a server (what pycrdt cannot read
    safely is left out: see `crdt.gate.stored_state`)."""
    state, left_out = stored_state(load_updates(engine, doc_id=doc_id).updates)
    for why in left_out:
        log.error("doc %s: a stored update was left out: %s", doc_id, why)
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    return doc


def authors_of(engine: Engine, doc_id: str) -> list[str]:
    """Everyone recorded as contributing to a version of the document, first seen first."""
    names: list[str] = []
    offset = 0
    while True:
        page, total = list_versions(engine, doc_id=doc_id, limit=200, offset=offset)
        for version in reversed(page):
            names.extend(a for a in version.authors if a not in names)
        offset += len(page)
        if not page or offset >= total:
            return names


def render(doc: Doc, record: Document, *, footnotes: bool, frontmatter: bool,
           authors: list[str], deadline: Deadline | None = None,
           suggestions: str = "reject") -> str:
    """The document as Markdown (`BudgetExceeded` once `deadline` has passed)."""
    notes = None
    if footnotes:
        notes = [
            (t["id"], [f"{m['author'].get('name') or 'Someone'}: {m['body']}"
                       for m in t["messages"] if not m.get("deleted")])
            for t in comments.list_threads(doc) if t["state"] == "open"
        ]
    matter = None
    if frontmatter:
        updated = record.updated_at
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=UTC)
        matter = {"title": get_title(doc) or record.title, "authors": authors,
                  "date": updated.date().isoformat()}
    return export_markdown(doc, footnotes=notes, frontmatter=matter, deadline=deadline,
                           suggestions=suggestions)


def render_state(state: bytes, record: Document, *, footnotes: bool, frontmatter: bool,
                 authors: list[str], deadline: Deadline | None = None,
                 image_src: Callable[[str], str | None] | None = None,
                 suggestions: str = "reject") -> str:
    """`render` of a document given as its encoded state (a private copy: thread-safe), each
    image's source first replaced by `image_src(src)` where that is not None."""
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    if image_src is not None:
        rewrite_sources(doc, image_src)
    return render(doc, record, footnotes=footnotes, frontmatter=frontmatter, authors=authors,
                  deadline=deadline, suggestions=suggestions)


def decode_markdown(raw: bytes, *, limit: int) -> str:
    if len(raw) > limit:
        raise ImportError_(f"the file is {len(raw)} bytes; the limit is {limit} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportError_(f"the file is not UTF-8 text (byte {exc.start} is invalid)") from exc


def title_from(text: str, fallback: str) -> str:
    """The front matter title, else the first ATX heading, else `fallback`.

    Line by line with string methods: the regular expression this replaces
    (``^#{1,6}\\s+(.+?)\\s*#*\\s*$`` with re.M) backtracked for ~100 s on one heading
    followed by 5,000 spaces, on the event loop."""
    lines = text.splitlines()
    closing = lines.index("---", 1) if lines[:1] == ["---"] and "---" in lines[1:] else 0
    if closing:
        for line in lines[1:closing]:
            if line.lower().startswith("title:"):
                value = line.split(":", 1)[1].strip().strip("'\"")
                if value:
                    return value[:500]
    for line in lines:
        heading = _atx_heading(line)
        if heading:
            plain = _plain_inline(" ".join(heading.split())[:MAX_TITLE_SOURCE])
            if plain:
                return plain[:500]
    return fallback[:500] or "Untitled"


MAX_TITLE_SOURCE = 2000  # characters of a heading read for a title (it is cut to 500 anyway)


def _plain_inline(markdown: str) -> str:
    """What a heading says, without its Markdown: `![Yjs](…)` -> "Yjs", `*a* [b](u)` -> "a b"."""
    from markdown_it import MarkdownIt

    parts: list[str] = []
    for token in MarkdownIt("commonmark").parseInline(markdown)[0].children or []:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type == "image":
            parts.append(token.content)  # the alt text
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()


def _atx_heading(line: str) -> str | None:
    """The text of an ATX heading line (``## Title ##``), or None. Linear in the line."""
    hashes = len(line) - len(line.lstrip("#"))
    if not 1 <= hashes <= 6 or len(line) == hashes or not line[hashes].isspace():
        return None
    # strip blanks, then a closing run of "#", then blanks again
    text = line[hashes:].strip().rstrip("#").rstrip()
    return text or None


class TooComplex(ValueError):
    """The Markdown cannot be converted within the limits (time budget, parts)."""


def convert_markdown(text: str, *, title: str, deadline: Deadline | None = None,
                     max_nodes: int | None = None,
                     image_src: Callable[[str], str | None] | None = None,
                     author: Recorded | None = None) -> bytes:
    """The first update of a new document holding the parse of `text` (no storage), its text
    written by `author` (crdt/authors.py) when given.

    Raises `BudgetExceeded` once `deadline` has passed and `TooManyNodes` past `max_nodes`."""
    doc: Doc[Any] = Doc()
    with doc.transaction():
        set_title(doc, title)
        import_markdown(text, doc, deadline=deadline, max_nodes=max_nodes)
        if image_src is not None:
            rewrite_sources(doc, image_src)
        if author is not None:
            record(authors_map(doc), frozenset({doc.client_id}), author.account, author.name)
    return doc.get_update()


def convert_import(text: str, *, title: str | None, fallback: str,
                   deadline: Deadline | None = None, max_nodes: int | None = None,
                   image_src: Callable[[str], str | None] | None = None,
                   author: Recorded | None = None) -> tuple[str, bytes]:
    """(title, first update) for an upload: `title`, else one found in `text` (see
    `title_from`), and the parse (see `convert_markdown`)."""
    name = title or title_from(text, fallback)
    return name, convert_markdown(text, title=name, deadline=deadline, max_nodes=max_nodes,
                                  image_src=image_src, author=author)


def store_import(engine: Engine, update: bytes, *, title: str, owner_id: str | None = None,
                 doc_id: str | None = None) -> Document:
    """Create the document record and store `update` as its first update."""
    record = store_docs.create_document(engine, title=title, owner_id=owner_id, doc_id=doc_id)
    append_updates(engine, [(record.id, update)])
    return record


def create_from_markdown(engine: Engine, text: str, *, title: str,
                         owner_id: str | None = None, deadline: Deadline | None = None,
                         max_nodes: int | None = None) -> Document:
    """A new document holding the parse of `text`, stored as its first update."""
    update = convert_markdown(text, title=title, deadline=deadline, max_nodes=max_nodes)
    return store_import(engine, update, title=title, owner_id=owner_id)


def stamp(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M")
