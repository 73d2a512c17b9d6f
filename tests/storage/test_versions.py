"""Version storage on SQLite and PostgreSQL: chains of deltas, loading, retention, deletion,
and the cost of 1,000 versions."""

from __future__ import annotations

import time
import zlib
from datetime import timedelta

from pycrdt import Doc, XmlElement, XmlFragment, XmlText
from sqlalchemy import insert, update
from sqlmodel import Session, col

from crdt.versions import content_tree, doc_from_parts, merge_deltas, squash
from storage import documents, versions
from storage.db import make_engine
from storage.models import Version, utcnow


class Writer:
    """Edits a document and stores versions of it the way the server does (deltas)."""

    def __init__(self, engine, doc_id: str, checkpoint_every: int = 4) -> None:
        self.engine = engine
        self.doc_id = doc_id
        self.checkpoint_every = checkpoint_every
        self.doc = Doc()
        self.frag = self.doc.get("default", type=XmlFragment)
        self.sv: bytes | None = None
        self.last: int | None = None
        self.contents: dict[int, object] = {}
        self.step = 0

    def edit(self) -> None:
        i = self.step
        self.step += 1
        if i % 3 == 0:
            self.frag.children.append(XmlElement("paragraph", {}, [XmlText(f"para {i} ")]))
        text = self.frag.children[len(self.frag.children) - 1].children[0]
        text.insert(len(text), f"word{i} ", {"bold": {}} if i % 2 else {})
        if i % 5 == 4 and len(self.frag.children) > 2:
            del self.frag.children[0]
        if i % 4 == 3:
            del text[0:2]

    def save(self, *, kind: str = "auto", name: str | None = None, created_at=None,
             base_id: int | None = -1) -> versions.VersionInfo:
        info = versions.add_version(
            self.engine, doc_id=self.doc_id, state=self.doc.get_update(), kind=kind, name=name,
            authors=["Ada"], delta=self.doc.get_update(self.sv) if self.sv else None,
            base_id=self.last if base_id == -1 else base_id,
            checkpoint_every=self.checkpoint_every, created_at=created_at)
        self.sv, self.last = self.doc.get_state(), info.id
        self.contents[info.id] = content_tree(self.doc)
        return info

    def render(self, version_id: int):
        parts = versions.load_version(self.engine, doc_id=self.doc_id, version_id=version_id)
        return content_tree(doc_from_parts(parts))


def new_doc(engine, title: str = "v") -> str:
    return documents.create_document(engine, title=title).id


def test_chains_of_deltas_render_every_version(db_url):
    engine = make_engine(db_url)
    writer = Writer(engine, new_doc(engine), checkpoint_every=4)
    infos = []
    for _ in range(10):
        writer.edit()
        writer.edit()
        infos.append(writer.save())
    assert [i.checkpoint for i in infos] == [True, False, False, False] * 2 + [True, False]
    for info in infos:
        assert writer.render(info.id) == writer.contents[info.id]
    # a delta against a version that is not the newest is not trusted: a full state instead
    writer.edit()
    stale = writer.save(base_id=infos[0].id)
    assert stale.checkpoint and writer.render(stale.id) == writer.contents[stale.id]
    assert versions.load_version(engine, doc_id=writer.doc_id, version_id=10**9) is None
    other = new_doc(engine)  # versions are only reachable through their own document
    assert versions.load_version(engine, doc_id=other, version_id=infos[0].id) is None
    assert versions.get_version(engine, doc_id=other, version_id=infos[0].id) is None
    assert versions.add_version(engine, doc_id="missing", state=b"\x00\x00") is None


def test_list_is_paginated_newest_first(db_url):
    engine = make_engine(db_url)
    doc_id = new_doc(engine)
    ids = [versions.add_version(engine, doc_id=doc_id, state=b"\x00\x00",
                                kind="named" if i == 2 else "auto",
                                name="Sent to legal" if i == 2 else None,
                                authors=["Ada", "Bob"][: i % 3]).id for i in range(7)]
    page, total = versions.list_versions(engine, doc_id=doc_id, limit=3)
    assert total == 7 and [v.id for v in page] == ids[::-1][:3]
    page, _ = versions.list_versions(engine, doc_id=doc_id, limit=3, offset=3)
    assert [v.id for v in page] == ids[::-1][3:6]
    named = versions.get_version(engine, doc_id=doc_id, version_id=ids[2])
    assert (named.kind, named.name, named.authors) == ("named", "Sent to legal", ["Ada", "Bob"])
    assert named.created_at.tzinfo is not None


def test_retention_thins_automatic_versions_and_keeps_named_ones(db_url):
    engine = make_engine(db_url)
    writer = Writer(engine, new_doc(engine), checkpoint_every=5)
    now = utcnow()
    # 40 versions, one every 20 minutes going back ~13 hours, then 10 from 10 days ago
    stamps = [now - timedelta(days=10, minutes=20 * k) for k in range(10, 0, -1)] + [
        now - timedelta(minutes=20 * k) for k in range(40, 0, -1)]
    named = set()
    for k, stamp in enumerate(stamps):
        writer.edit()
        kind = "named" if k % 9 == 4 else "restore" if k == 30 else "auto"
        info = writer.save(kind=kind, name="milestone" if kind == "named" else None,
                           created_at=stamp)
        if kind != "auto":
            named.add(info.id)
    all_ids = set(writer.contents)
    tiers = [versions.Tier(age=3 * 3600, every=3600), versions.Tier(age=7 * 86400, every=86400)]
    removed = versions.prune_versions(engine, doc_id=writer.doc_id, tiers=tiers,
                                      merge=merge_deltas, squash=squash, now=now)
    left = {v.id for v in versions.list_versions(engine, doc_id=writer.doc_id, limit=500)[0]}
    assert removed == len(all_ids - left) > 0
    assert named <= left  # named versions and restores are kept forever
    assert max(all_ids) in left
    # everything younger than 3 hours is kept; older automatic ones at most one per bucket
    recent = {i for i, s in zip(sorted(all_ids), stamps, strict=True)
              if (now - s).total_seconds() < 3 * 3600}
    assert recent <= left
    auto_left = [(i, s) for i, s in zip(sorted(all_ids), stamps, strict=True)
                 if i in left and i not in named and i not in recent]
    hourly = [int(s.timestamp() // 3600) for _, s in auto_left
              if (now - s).total_seconds() < 7 * 86400]
    daily = [int(s.timestamp() // 86400) for _, s in auto_left
             if (now - s).total_seconds() >= 7 * 86400]
    assert len(hourly) == len(set(hourly)) and len(daily) == len(set(daily))
    # the versions left still render exactly (deltas and checkpoints were folded forward)
    for version_id in left:
        assert writer.render(version_id) == writer.contents[version_id], version_id
    # pruning again removes nothing; new versions still chain onto what is left
    assert versions.prune_versions(engine, doc_id=writer.doc_id, tiers=tiers,
                                   merge=merge_deltas, squash=squash, now=now) == 0
    writer.edit()
    info = writer.save()
    assert writer.render(info.id) == writer.contents[info.id]


def test_deleting_checkpoints_and_runs_keeps_the_rest_loadable(db_url):
    engine = make_engine(db_url)
    writer = Writer(engine, new_doc(engine), checkpoint_every=6)
    ids = []
    for _ in range(14):
        writer.edit()
        ids.append(writer.save().id)
    # the first checkpoint, a run in the middle of a chain, and the tail of the second chain
    doomed = [ids[0], ids[1], ids[3], ids[4], ids[10], ids[11]]
    assert versions.delete_versions(engine, doc_id=writer.doc_id, version_ids=doomed,
                                    merge=merge_deltas, squash=squash) == len(doomed)
    left = [v for v in versions.list_versions(engine, doc_id=writer.doc_id, limit=50)[0]]
    assert {v.id for v in left} == set(ids) - set(doomed)
    assert next(v for v in left if v.id == ids[2]).checkpoint  # took over the chain
    for v in left:
        assert writer.render(v.id) == writer.contents[v.id]


def test_deleting_the_document_deletes_its_versions(db_url):
    engine = make_engine(db_url)
    writer = Writer(engine, new_doc(engine))
    writer.edit()
    writer.save()
    assert documents.delete_document(engine, doc_id=writer.doc_id)
    assert versions.list_versions(engine, doc_id=writer.doc_id) == ([], 0)


def seed_versions(engine, doc_id: str, count: int, *, checkpoint_every: int = 50) -> Doc:
    """Fill the table fast (a few statements) with `count` versions of a growing document, in
    the format `add_version` writes. Returns the document as of the newest version."""
    doc = Doc()
    frag = doc.get("default", type=XmlFragment)
    rows = []
    sv = None
    for i in range(count):
        if i % 10 == 0:
            frag.children.append(XmlElement("paragraph", {}, [XmlText(f"Paragraph {i}. ")]))
        text = frag.children[len(frag.children) - 1].children[0]
        text.insert(len(text), f"sentence {i} of a long document. ")
        if i % 7 == 0:
            del text[0:3]
        state = doc.get_update()
        checkpoint = i % checkpoint_every == 0
        rows.append({
            "doc_id": doc_id, "created_at": utcnow(), "authors": ["Ada"], "size": len(state),
            "kind": "named" if i % 100 == 0 else "auto", "name": f"v{i}" if i % 100 == 0 else None,
            "data": zlib.compress(state if checkpoint else doc.get_update(sv)), "chain_id": 0,
        })
        sv = doc.get_state()
    with Session(engine) as session:
        for start in range(0, count, checkpoint_every):
            head, *deltas = rows[start : start + checkpoint_every]
            chain_id = session.execute(insert(Version).returning(Version.id), [head]).scalar_one()
            session.execute(update(Version).where(col(Version.id) == chain_id)
                            .values(chain_id=chain_id))
            if deltas:
                session.execute(insert(Version), [{**r, "chain_id": chain_id} for r in deltas])
        session.commit()
    return doc


def test_thousand_versions_cost(db_url, capsys):
    """Storage and read times with 1,000 versions (measured and printed, not asserted)."""
    engine = make_engine(db_url)
    doc_id = new_doc(engine)
    doc = seed_versions(engine, doc_id, 1000)
    timings = {}
    started = time.perf_counter()
    page, total = versions.list_versions(engine, doc_id=doc_id, limit=50, offset=500)
    timings["list page at offset 500"] = time.perf_counter() - started
    assert total == 1000 and len(page) == 50
    newest = versions.list_versions(engine, doc_id=doc_id, limit=1)[0][0].id
    started = time.perf_counter()
    parts = versions.load_version(engine, doc_id=doc_id, version_id=newest)
    rendered = doc_from_parts(parts)
    timings["load+render newest (chain of 50)"] = time.perf_counter() - started
    assert content_tree(rendered) == content_tree(doc)
    started = time.perf_counter()
    writer_info = versions.add_version(engine, doc_id=doc_id, state=doc.get_update())
    timings["add a checkpoint"] = time.perf_counter() - started
    assert writer_info.checkpoint
    stored = versions.storage_bytes(engine, doc_id=doc_id)
    full = len(zlib.compress(doc.get_update()))
    with capsys.disabled():
        print(f"\n1,000 versions ({engine.dialect.name}): {stored / 1024:.0f} KiB stored "
              f"(a full compressed state is {full / 1024:.1f} KiB); "
              + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in timings.items()))
