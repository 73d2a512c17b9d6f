"""The update log on SQLite and PostgreSQL: append, load, compact, restart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pycrdt import Doc, Map, Text, XmlElement, XmlFragment, XmlText
from sqlalchemy import event
from sqlmodel import Session, col, select

from crdt.compaction import merge_to_state
from storage import documents, updates
from storage.db import make_engine
from storage.models import Update


def edits(n: int) -> tuple[Doc, list[bytes]]:
    """A doc typed as n small edits (with a deletion and formatting), and the updates."""
    doc = Doc()
    captured: list[bytes] = []
    doc.observe(lambda e: captured.append(e.update))
    text = doc.get("t", type=Text)
    frag = doc.get("default", type=XmlFragment)
    para = frag.children.append(XmlElement("paragraph", {}, [XmlText("")]))
    for i in range(n):
        text.insert(len(text), chr(97 + i % 26))
        para.children[0].insert(len(para.children[0]), "x", {"bold": {}} if i % 3 else None)
        if i % 10 == 9:
            del text[0:2]
    return doc, captured


def content(doc: Doc) -> tuple[str, str, list]:
    frag = doc.get("default", type=XmlFragment)
    return (str(doc.get("t", type=Text)), str(frag), frag.children[0].children[0].diff()
            if len(frag.children) else [])


def rebuilt(parts: list[bytes]) -> Doc:
    doc = Doc()
    for part in parts:
        doc.apply_update(part)
    return doc


def test_append_load_compact_restart(db_url):
    engine = make_engine(db_url)
    doc_id = documents.create_document(engine, title="log").id
    reference, ups = edits(120)
    updates.append_updates(engine, [(doc_id, u) for u in ups])
    assert updates.log_length(engine, doc_id=doc_id) == len(ups)

    loaded = updates.load_updates(engine, doc_id=doc_id)
    assert content(rebuilt(loaded.updates)) == content(reference)

    folded = updates.compact(engine, doc_id=doc_id, merge=merge_to_state)
    assert folded == len(ups)
    assert updates.log_length(engine, doc_id=doc_id) == 0

    # more edits after compaction: snapshot + tail
    more = Doc()
    more.apply_update(reference.get_update())
    captured: list[bytes] = []
    more.observe(lambda e: captured.append(e.update))
    more.get("t", type=Text).insert(0, "AFTER ")
    updates.append_updates(engine, [(doc_id, u) for u in captured])
    engine.dispose()

    restarted = make_engine(db_url)  # a restart: new engine on the same database
    loaded = updates.load_updates(restarted, doc_id=doc_id)
    assert loaded.tail_count == 1
    assert content(rebuilt(loaded.updates)) == content(more)
    updates.compact(restarted, doc_id=doc_id, merge=merge_to_state)
    again = updates.load_updates(restarted, doc_id=doc_id)
    assert len(again.updates) == 1
    assert content(rebuilt(again.updates)) == content(more)
    restarted.dispose()


def test_compact_keeps_rows_appended_while_it_merges(db_url):
    engine = make_engine(db_url)
    doc_id = documents.create_document(engine, title="race").id
    _, ups = edits(20)
    updates.append_updates(engine, [(doc_id, u) for u in ups[:10]])
    writer = threading.Thread(
        target=updates.append_updates, args=(engine, [(doc_id, u) for u in ups[10:]])
    )

    def merge_while_another_writer_appends(parts: list[bytes]) -> bytes:
        # another writer appends while compaction merges: it does not wait for the merge (no
        # lock is held meanwhile; it waited for the whole merge on SQLite before), and its rows
        # stay in the log
        writer.start()
        writer.join(timeout=5)
        assert not writer.is_alive(), "an append waited for a compaction's merge"
        return merge_to_state(parts)

    assert updates.compact(engine, doc_id=doc_id, merge=merge_while_another_writer_appends) == 10
    loaded = updates.load_updates(engine, doc_id=doc_id)
    assert loaded.tail_count == len(ups) - 10
    reference = rebuilt(ups)
    assert content(rebuilt(loaded.updates)) == content(reference)
    engine.dispose()


def independent(n: int) -> list[bytes]:
    """`n` updates from `n` people, none depending on another: key i of map "m" set to i."""
    made = []
    for i in range(n):
        doc = Doc()
        doc.get("m", type=Map)[f"k{i}"] = i
        made.append(doc.get_update())
    return made


def keys(parts: list[bytes]) -> set[str]:
    return set(rebuilt(parts).get("m", type=Map).keys())


def test_a_row_committed_after_the_compaction_read_with_a_lower_id_is_kept(db_url):
    """On PostgreSQL two processes' appends can commit out of id order: a row with a lower id
    than one a compaction read becomes visible after the compaction read. A compaction deleted
    every row up to the highest id it read, and loads read only the rows above it, so that row
    was left out of the document, then deleted unread by the next compaction. Now a compaction
    deletes exactly the rows it read, and a load reads every row left in the log."""
    engine = make_engine(db_url)
    doc_id = documents.create_document(engine, title="late").id
    parts = independent(6)
    updates.append_updates(engine, [(doc_id, u) for u in parts])
    with Session(engine) as session:
        rows = session.exec(select(Update).where(Update.doc_id == doc_id)
                            .order_by(col(Update.id))).all()
        late = (rows[2].id, rows[2].data)
        session.delete(rows[2])  # not yet committed, as far as the compaction can see
        session.commit()
    folding = updates.read_for_compaction(engine, doc_id=doc_id)
    assert late[0] not in folding.row_ids and max(folding.row_ids) > late[0]
    with Session(engine) as session:  # it commits now, with its lower id
        session.add(Update(id=late[0], doc_id=doc_id, data=late[1]))
        session.commit()
    assert updates.replace_with_snapshot(engine, doc_id=doc_id, folding=folding,
                                         merged=merge_to_state(folding.parts)) == 5
    loaded = updates.load_updates(engine, doc_id=doc_id)
    assert loaded.tail_count == 1
    assert keys(loaded.updates) == {f"k{i}" for i in range(6)}
    assert updates.compact(engine, doc_id=doc_id, merge=merge_to_state) == 1  # folded next time
    again = updates.load_updates(engine, doc_id=doc_id)
    assert len(again.updates) == 1 and keys(again.updates) == {f"k{i}" for i in range(6)}
    engine.dispose()


def test_a_compaction_another_overtook_writes_nothing(db_url):
    """Two compactions of one document at once (two processes, or an unload beside the
    periodic one): the one that writes second finds rows it read already folded, and writes
    nothing, rather than a snapshot without the rows only the other read."""
    engine = make_engine(db_url)
    doc_id = documents.create_document(engine, title="twice").id
    parts = independent(7)
    updates.append_updates(engine, [(doc_id, u) for u in parts[:5]])
    first = updates.read_for_compaction(engine, doc_id=doc_id)
    updates.append_updates(engine, [(doc_id, u) for u in parts[5:]])
    second = updates.read_for_compaction(engine, doc_id=doc_id)
    assert updates.replace_with_snapshot(engine, doc_id=doc_id, folding=second,
                                         merged=merge_to_state(second.parts)) == 7
    assert updates.replace_with_snapshot(engine, doc_id=doc_id, folding=first,
                                         merged=merge_to_state(first.parts)) == 0
    loaded = updates.load_updates(engine, doc_id=doc_id)
    assert loaded.tail_count == 0 and keys(loaded.updates) == {f"k{i}" for i in range(7)}
    engine.dispose()


def test_documents_crud_and_search(db_url):
    engine = make_engine(db_url)
    tag = documents.new_id()[:8]
    a = documents.create_document(engine, title=f"Alpha 100% {tag}")
    b = documents.create_document(engine, title=f"beta_{tag}")
    found, total = documents.list_documents(engine, q=f"alpha 100% {tag}")
    assert [d.id for d, _owner in found] == [a.id] and total == 1
    # LIKE wildcards in the query are literal
    assert documents.list_documents(engine, q=f"b_ta_{tag}")[1] == 0
    assert documents.rename_document(engine, doc_id=b.id, title="Gamma")
    assert documents.get_document(engine, doc_id=b.id).title == "Gamma"
    updates.append_updates(engine, [(a.id, b"\x00\x00")])
    assert documents.delete_document(engine, doc_id=a.id)
    assert documents.get_document(engine, doc_id=a.id) is None
    assert updates.load_updates(engine, doc_id=a.id).updates == []
    assert not documents.delete_document(engine, doc_id=a.id)
    assert len(a.id) >= 20  # unguessable
    engine.dispose()


def test_document_ids_never_look_like_command_line_options():
    # 1 in 64 URL-safe ids would start with "-", and `quire export ID` would refuse them
    ids = {documents.new_id() for _ in range(3000)}
    assert len(ids) == 3000
    assert not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)


@contextmanager
def compaction_after_snapshot_read(engine, doc_id: str) -> Iterator[list[bool]]:
    """Within the block, once a statement reading a snapshot's data has begun (its rows not yet
    all read), another connection compacts `doc_id` (the list it yields then holds True).

    The hot reads go straight to the driver's cursor (storage/driver_reads.py). On PostgreSQL
    the compaction runs once psycopg's cursor ran the statement (PostgreSQL read it at one
    moment, and the client has its rows); on SQLite from within the statement's own steps
    (sqlite3's progress handler, armed by its trace callback)."""
    overtaken: list[bool] = []

    def snapshot_read(statement: str) -> bool:
        return "FROM snapshot" in statement and "snapshot.data" in statement

    def compact_once() -> None:
        if not overtaken:
            overtaken.append(True)
            updates.compact(engine, doc_id=doc_id, merge=merge_to_state)

    import psycopg

    run_statement = psycopg.Cursor.execute

    def execute_then_compact(cursor, query, *args, **kwargs):
        ran = run_statement(cursor, query, *args, **kwargs)
        if isinstance(query, str) and snapshot_read(query):
            compact_once()
        return ran

    armed: list[bool] = []
    touched: list = []

    def on_checkout(dbapi_conn, _record, _proxy):
        def trace(statement: str) -> None:
            if snapshot_read(statement):
                armed.append(True)

        def progress() -> int:
            if armed and not overtaken:
                compact_once()
            return 0

        touched.append(dbapi_conn)
        dbapi_conn.set_trace_callback(trace)
        dbapi_conn.set_progress_handler(progress, 1)

    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        event.listen(engine, "checkout", on_checkout)
    else:
        psycopg.Cursor.execute = execute_then_compact  # type: ignore[method-assign]
    try:
        yield overtaken
    finally:
        if sqlite:
            event.remove(engine, "checkout", on_checkout)
        else:
            psycopg.Cursor.execute = run_statement  # type: ignore[method-assign]
        for dbapi_conn in touched:
            dbapi_conn.set_trace_callback(None)
            dbapi_conn.set_progress_handler(None, 0)


def test_a_load_that_a_compaction_overtakes_misses_nothing(db_url, monkeypatch):
    """A compaction committed between the load's two reads (snapshot, then the log after it)
    folded rows into a snapshot the load had not seen and deleted them from the log it read
    next: the document opened without them. The load now reads both in one statement, which
    sees one moment (on SQLite the compaction commits while the statement is still stepping)."""
    engine = make_engine(db_url)
    doc_id = documents.create_document(engine, title="overtaken").id
    _, ups = edits(30)
    updates.append_updates(engine, [(doc_id, u) for u in ups[:10]])
    updates.compact(engine, doc_id=doc_id, merge=merge_to_state)  # a first snapshot
    updates.append_updates(engine, [(doc_id, u) for u in ups[10:]])

    with compaction_after_snapshot_read(engine, doc_id) as overtaken:
        loaded = updates.load_updates(engine, doc_id=doc_id)
    assert overtaken
    assert content(rebuilt(loaded.updates)) == content(rebuilt(ups))
    engine.dispose()
