"""Restoring a version into a live document, rebuilding versions from parts, and word diffs."""

from __future__ import annotations

import random

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.meta import get_title, set_title
from crdt.versions import (
    content_tree,
    doc_from_parts,
    merge_deltas,
    restore,
    squash,
    text_diff,
)

WORDS = ["alpha ", "beta ", "gamma ", "delta ", "über ", "😀 "]
MARKS = [{}, {"bold": {}}, {"italic": {}, "bold": {}}, {"link": {"href": "https://q.example"}}]


def frag_of(doc: Doc) -> XmlFragment:
    return doc.get("default", type=XmlFragment)


def text_block(parent, tag: str, rng: random.Random, attrs: dict | None = None) -> None:
    element = parent.children.append(XmlElement(tag, attrs or {}))
    run = element.children.append(XmlText())
    for _ in range(rng.randint(0, 3)):
        run.insert(len(run), rng.choice(WORDS), rng.choice(MARKS))
    if rng.random() < 0.2:  # inline node between two text runs
        element.children.append(XmlElement("hardBreak"))
        element.children.append(XmlText()).insert(0, "after the break", {})


def random_blocks(doc: Doc, rng: random.Random, count: int) -> None:
    frag = frag_of(doc)
    with doc.transaction():
        for _ in range(count):
            kind = rng.choice(["paragraph", "heading", "bulletList", "blockquote", "rule"])
            if kind == "heading":
                text_block(frag, "heading", rng, {"level": float(rng.randint(1, 3))})
            elif kind == "bulletList":
                lst = frag.children.append(XmlElement("bulletList"))
                for _ in range(rng.randint(1, 3)):
                    text_block(lst.children.append(XmlElement("listItem")), "paragraph", rng)
            elif kind == "blockquote":
                text_block(frag.children.append(XmlElement("blockquote")), "paragraph", rng)
            elif kind == "rule":
                frag.children.append(XmlElement("horizontalRule"))
            else:
                text_block(frag, "paragraph", rng)
        set_title(doc, rng.choice(["Draft", "Final", "Sent to legal"]))


def plain(text: XmlText) -> str:
    return "".join(chunk for chunk, _ in text.diff() if isinstance(chunk, str))


def offset(text: XmlText, index: int) -> int:
    """XmlText offsets count UTF-8 bytes: the offset of character `index`."""
    return len(plain(text)[:index].encode("utf-8"))


def random_edit(doc: Doc, rng: random.Random) -> None:
    """Edit like people do: type, delete, reformat, add and remove blocks, retitle."""
    frag = frag_of(doc)
    with doc.transaction():
        texts = []
        stack = list(frag.children)
        while stack:
            node = stack.pop()
            if isinstance(node, XmlText):
                texts.append(node)
            else:
                stack.extend(node.children)
        choice = rng.random()
        text = rng.choice(texts) if texts else None
        chars = len(plain(text)) if text is not None else 0
        if text is not None and choice < 0.4:
            at = offset(text, rng.randint(0, chars))
            text.insert(at, rng.choice(WORDS), rng.choice(MARKS))
        elif text is not None and choice < 0.6:
            if chars:
                start = rng.randrange(chars)
                stop = min(chars, start + rng.randint(1, 6))
                del text[offset(text, start) : offset(text, stop)]
        elif text is not None and choice < 0.7:
            if chars > 1:
                text.format(0, offset(text, rng.randint(1, chars)), {"italic": {}})
        elif len(frag.children) and choice < 0.8:
            del frag.children[rng.randrange(len(frag.children))]
        elif choice < 0.9:
            random_blocks(doc, rng, 1)
        else:
            set_title(doc, f"Title {rng.randint(0, 99)}")


def replica_of(doc: Doc) -> tuple[Doc, list[bytes]]:
    """Another client's copy of `doc`, and the updates `doc` makes from now on."""
    replica = Doc()
    replica.apply_update(doc.get_update())
    sent: list[bytes] = []
    doc.observe(lambda event: sent.append(event.update))
    return replica, sent


def test_restoring_an_earlier_state_of_the_same_document(caplog):
    for seed in range(150):
        rng = random.Random(seed)
        doc = Doc()
        random_blocks(doc, rng, rng.randint(0, 6))
        version = Doc()
        version.apply_update(doc.get_update())  # the version, as it would be stored
        for _ in range(rng.randint(1, 25)):
            random_edit(doc, rng)
        replica, sent = replica_of(doc)
        restore(doc, version)
        for update in sent:
            replica.apply_update(update)
        assert content_tree(doc) == content_tree(version), seed
        assert content_tree(replica) == content_tree(version), seed
    assert not caplog.records  # the minimal edit was right every time (no rebuild fallback)


def test_restoring_unrelated_content(caplog):
    for seed in range(150):
        rng = random.Random(1000 + seed)
        doc, version = Doc(), Doc()
        random_blocks(doc, rng, rng.randint(0, 6))
        random_blocks(version, rng, rng.randint(0, 6))
        replica, sent = replica_of(doc)
        restore(doc, version)
        for update in sent:
            replica.apply_update(update)
        assert content_tree(doc) == content_tree(version), seed
        assert content_tree(replica) == content_tree(version), seed
    assert not caplog.records


def test_restore_is_one_change_that_merges_with_concurrent_edits():
    rng = random.Random(7)
    doc = Doc()
    random_blocks(doc, rng, 5)
    version = Doc()
    version.apply_update(doc.get_update())
    for _ in range(10):
        random_edit(doc, rng)
    other, _ = replica_of(doc)
    replica, sent = replica_of(doc)
    # someone types at the same moment as the restore
    frag_of(other).children.append(XmlElement("paragraph", {}, [XmlText("typed meanwhile")]))
    restore(doc, version)
    assert len(sent) == 1
    replica.apply_update(other.get_update(replica.get_state()))
    replica.apply_update(sent[0])
    doc.apply_update(other.get_update(doc.get_state()))
    assert content_tree(replica) == content_tree(doc)
    assert "typed meanwhile" in str(frag_of(doc))  # the concurrent edit survives


def test_restore_leaves_unchanged_blocks_alone():
    doc = Doc()
    frag = frag_of(doc)
    with doc.transaction():
        for i in range(60):
            frag.children.append(XmlElement("paragraph", {}, [XmlText(f"Paragraph {i} " * 20)]))
    version = Doc()
    version.apply_update(doc.get_update())
    frag.children[30].children[0].insert(5, "EDITED ", {"bold": {}})
    del frag.children[10]
    replica, sent = replica_of(doc)
    untouched = frag_of(replica).children[44].children[0]  # paragraph 45 (10 is gone)
    restore(doc, version)
    assert content_tree(doc) == content_tree(version)
    # far smaller than rewriting the document, and untouched paragraphs keep their identity
    assert len(sent[0]) < len(version.get_update()) / 10
    for update in sent:
        replica.apply_update(update)
    assert str(untouched) == f"{'Paragraph 45 ' * 20}"
    assert frag_of(replica).children[45].children[0] == untouched


def test_restore_without_changes_changes_nothing():
    rng = random.Random(3)
    doc = Doc()
    random_blocks(doc, rng, 4)
    version = Doc()
    version.apply_update(doc.get_update())
    _, sent = replica_of(doc)
    assert restore(doc, version) is False
    assert sent == []


def test_version_without_a_title_keeps_the_live_title():
    doc, version = Doc(), Doc()
    set_title(doc, "Live title")
    frag_of(version).children.append(XmlElement("paragraph", {}, [XmlText("only text")]))
    assert restore(doc, version)
    assert get_title(doc) == "Live title"
    assert content_tree(doc)["fragment"] == content_tree(version)["fragment"]


def test_parts_deltas_and_squash_agree():
    rng = random.Random(11)
    doc = Doc()
    random_blocks(doc, rng, 3)
    parts = [doc.get_update()]
    trees = [content_tree(doc)]
    for _ in range(12):
        before = doc.get_state()
        for _ in range(3):
            random_edit(doc, rng)
        parts.append(doc.get_update(before))
        trees.append(content_tree(doc))
    for k in range(len(parts)):
        assert content_tree(doc_from_parts(parts[: k + 1])) == trees[k]
    # folding deltas (deleted versions) and squashing a checkpoint keep later versions intact
    folded = [parts[0], merge_deltas(parts[1:5]), *parts[5:]]
    assert content_tree(doc_from_parts(folded)) == trees[-1]
    assert content_tree(doc_from_parts([squash(parts[:7]), *parts[7:]])) == trees[-1]


def test_text_diff_segments():
    assert text_diff("the quick brown fox", "the slow brown fox jumps") == [
        ["=", "the "], ["-", "quick"], ["+", "slow"], ["=", " brown fox"], ["+", " jumps"]]
    assert text_diff("", "") == []
    assert text_diff("same", "same") == [["=", "same"]]
    rng = random.Random(5)
    words = ["a", "b", "c", " ", "\n", "déjà", "vu", ",", "."]
    for _ in range(200):
        old = "".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        new = "".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        segments = text_diff(old, new)
        assert "".join(t for op, t in segments if op != "+") == old
        assert "".join(t for op, t in segments if op != "-") == new
        assert all(a[0] != b[0] for a, b in zip(segments, segments[1:], strict=False))
