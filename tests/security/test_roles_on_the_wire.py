"""Roles hold on the wire: what a commenter, a viewer and an editor may change, against a real
`quire serve`, with updates made the way a browser (Yjs + y-tiptap) makes them — and forged.

| who       | attempt                                                        | result           |
|-----------|----------------------------------------------------------------|------------------|
| commenter | a comment on a passage (thread + highlight mark), a reply      | applied          |
| commenter | types, deletes, bolds text, changes the title                  | refused          |
| commenter | (a) a text edit that needs an earlier update they never send,  | refused: the     |
|           |     then a comment from the same client id to release it       | comment alone    |
| commenter | (b) a delete set aimed at an editor's future clocks            | refused; what    |
|           |                                                                | the editor types |
|           |                                                                | next survives    |
| commenter | (c) a formatting key "comment--x" / a wrong hash / plain "comment" | refused      |
| commenter | edits, deletes or re-authors the editor's message; replaces,  | refused          |
|           | resolves or deletes the editor's thread; clears its highlight; |                  |
|           | posts under the editor's id                                    |                  |
| commenter | edits and resolves their own thread                            | applied          |
| viewer    | any change, comments included                                  | refused          |
| editor    | edits the commenter's message, changes its author              | refused          |
| editor    | types, resolves the commenter's thread                         | applied          |

"Refused" means: the sender is told once (y-websocket's permission-denied message), nothing is
applied, stored or sent on, the connection stays open, and the owner's view is unchanged.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from pycrdt import Array, Doc, Map, XmlElement, XmlFragment, XmlText, write_message

from crdt.comments import mark_key
from crdt.update_format import FORMAT, parse_update
from tests.support import forge
from tests.support.yclient import YClient, decode_state_vector, eventually

pytestmark = pytest.mark.timeout(90)


def person(quire, role: str) -> dict:
    cast = quire.cast[role]
    return {"id": cast.user_id, "name": cast.username.title(), "username": cast.username,
            "color": "#336699"}


def first_text(doc: Doc) -> XmlText:
    """The first paragraph's text ("The first paragraph of the plan.")."""
    fragment = doc.get("default", type=XmlFragment)
    return fragment.children[1].children[0]


def add_thread(doc: Doc, author: dict, *, body: str = "Is this right?", mark: bool = True,
               start: int = 4, end: int = 9) -> str:
    """A thread as the browser writes it: the data in one transaction, then the highlight
    mark in another (y-tiptap's own)."""
    thread_id = str(uuid.uuid4())
    now = float(int(time.time() * 1000))
    with doc.transaction():
        doc.get("comments", type=Map)[thread_id] = Map({
            "id": thread_id, "createdAt": now, "author": author, "quote": "first",
            "resolved": False, "resolvedAt": None, "resolvedBy": None,
            "messages": Array([Map({"id": str(uuid.uuid4()), "author": author, "body": body,
                                    "createdAt": now, "editedAt": None, "deleted": False})]),
        })
    if mark:
        first_text(doc).format(start, end, {mark_key(thread_id): {"threadId": thread_id}})
    return thread_id


def thread(doc: Doc, thread_id: str) -> Map:
    return doc.get("comments", type=Map)[thread_id]


async def refused(client: YClient) -> None:
    """The server told `client` its change was refused (and kept the connection)."""
    await eventually(lambda: any(m[:1] == b"\x02" for m in client.received), timeout=5)
    assert not client.closed.is_set(), (client.close_code, client.close_reason)


async def attempt(quire, doc_id: str, role: str, change, *, expect: str) -> tuple[dict, dict]:
    """`change(client.doc)` by a fresh client of `role`, which must be "refused" (the sender
    is told; the owner's view unchanged), "dropped" (deletions of formatting markers that are
    not the sender's to make are left out of an update silently: browsers send such clean-ups
    on their own) or "applied" (the owner's view changes). Returns the owner's view before and
    after, for the test to say what a reader sees."""
    before = await quire.owner_view(doc_id)
    async with quire.probe():
        client = await quire.joined(doc_id, role)
        try:
            change(client.doc)
            if expect == "refused":
                await refused(client)
                await asyncio.sleep(0.1)
                assert await quire.owner_view(doc_id) == before
            elif expect == "dropped":
                await asyncio.sleep(0.5)
                assert await quire.owner_view(doc_id) == before
            else:
                async def changed() -> bool:
                    return await quire.owner_view(doc_id) != before
                deadline = time.monotonic() + 5
                while not await changed():
                    assert time.monotonic() < deadline, "the change never arrived"
                    await asyncio.sleep(0.05)
                assert not any(m[:1] == b"\x02" for m in client.received)
        finally:
            await client.close()
    return before, await quire.owner_view(doc_id)


async def editor_thread(quire, doc_id: str) -> str:
    """A thread the editor started, applied."""
    client = await quire.joined(doc_id, "editor")
    thread_id = add_thread(client.doc, person(quire, "editor"))
    await eventually_thread(quire, doc_id, thread_id)
    await client.close()
    return thread_id


async def eventually_thread(quire, doc_id: str, thread_id: str) -> dict:
    for _ in range(100):
        view = await quire.owner_view(doc_id)
        found = [t for t in view["comments"]["items"] if t["id"] == thread_id]
        if found and found[0]["anchor"]:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the thread never arrived")


# ---- commenters ------------------------------------------------------------------------------


async def test_a_commenter_comments_and_replies(quire):
    doc_id = await quire.new_doc()
    me = person(quire, "commenter")
    ids = []
    await attempt(quire, doc_id, "commenter", lambda d: ids.append(add_thread(d, me)),
                  expect="applied")
    found = await eventually_thread(quire, doc_id, ids[0])
    assert found["anchor_text"] == "first"
    theirs = await editor_thread(quire, doc_id)

    def reply(doc: Doc) -> None:
        with doc.transaction():
            thread(doc, theirs)["messages"].append(Map({
                "id": "r1", "author": me, "body": "Agreed", "createdAt": 1.0,
                "editedAt": None, "deleted": False}))
    await attempt(quire, doc_id, "commenter", reply, expect="applied")


@pytest.mark.parametrize("change", [
    lambda d: first_text(d).insert(0, "Hacked "),
    lambda d: first_text(d).__delitem__(slice(0, 3)),
    lambda d: first_text(d).format(0, 3, {"bold": {}}),
    lambda d: d.get("default", type=XmlFragment).children.append(XmlElement("paragraph")),
    lambda d: d.get("meta", type=Map).__setitem__("title", "Pwned"),
    lambda d: d.get("elsewhere", type=Map).__setitem__("x", 1),
], ids=["insert", "delete", "bold", "block", "title", "other root"])
async def test_a_commenter_cannot_change_the_text(quire, change):
    doc_id = await quire.new_doc()
    before, after = await attempt(quire, doc_id, "commenter", change, expect="refused")
    assert after["content"] == before["content"]  # text, blocks, formatting, title
    assert "Hacked" not in after["content"]["text"] and "Pwned" not in str(after)


async def test_a_pending_text_edit_is_not_released_by_a_later_comment(quire):
    """(a) U1 is a comment (thread + highlight mark); U2 inserts text right after U1's mark,
    so it depends on U1. Sent U2 first, it used to wait inside pycrdt unseen by the check, and
    the accepted U1 released it into the text."""
    doc_id = await quire.new_doc()
    before = await quire.owner_view(doc_id)
    client = await quire.joined(doc_id, "commenter")
    forger = Doc(client_id=client.doc.client_id + 1)
    forger.apply_update(client.doc.get_update())
    state = forger.get_state()
    add_thread(forger, person(quire, "commenter"))
    u1 = forger.get_update(state)
    mark = next(s for s in parse_update(u1).structs if s.kind == FORMAT)
    end = decode_state_vector(forger.get_state())[forger.client_id]
    u2 = forge.update(forger.client_id, end, [
        b"\xc4" + forge.var_id((forger.client_id, mark.clock)) + forge.var_id(mark.right)
        + forge.var_string("Hacked ")])
    async with quire.probe():
        await client.send_raw(bytes([0, 2]) + write_message(u2))
        await refused(client)
        await client.send_raw(bytes([0, 2]) + write_message(u1))
        await asyncio.sleep(0.3)
    view = await quire.owner_view(doc_id)
    assert view["content"]["text"] == before["content"]["text"]  # the text: untouched
    assert [t["anchor_text"] for t in view["comments"]["items"]] == ["first"]  # the comment
    await client.close()


async def test_a_delete_set_aimed_at_an_editors_future_text_is_refused(quire):
    """(b) The editor's next clocks, deleted in advance."""
    doc_id = await quire.new_doc()
    editor = await quire.joined(doc_id, "editor")
    editor_id = editor.doc.client_id
    clock = decode_state_vector(editor.doc.get_state()).get(editor_id, 0)
    forged = b"\x00" + forge.delete_set(editor_id, clock, 1000)
    code, _ = await quire.attack_frame(doc_id, bytes([0, 2]) + write_message(forged),
                                       "commenter", timeout=0.5)
    assert code is None  # refused, connection kept
    first_text(editor.doc).insert(0, "Typed after. ")
    for _ in range(100):
        view = await quire.owner_view(doc_id)
        if "Typed after." in view["content"]["text"]:
            break
        await asyncio.sleep(0.05)
    assert "Typed after. The first paragraph" in view["content"]["text"]
    await editor.close()


@pytest.mark.parametrize("key", ["comment--x", "comment--AAAAAAAA", "comment"])
async def test_a_commenter_cannot_set_a_malformed_comment_mark(quire, key):
    """(c) y-tiptap cannot find a mark for such a key and deletes the whole text node in
    every editor's browser."""
    doc_id = await quire.new_doc()
    theirs = await editor_thread(quire, doc_id)
    before, after = await attempt(
        quire, doc_id, "commenter",
        lambda d: first_text(d).format(0, 3, {key: {"threadId": theirs}}), expect="refused")
    assert after["content"]["json"] == before["content"]["json"]  # no stray mark anywhere
    assert [t["anchor_text"] for t in after["comments"]["items"]] == ["first"]


def _set(thread_id: str, path: list, value) -> object:
    def change(doc: Doc) -> None:
        target = thread(doc, thread_id)
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize("make", [
    lambda q, t: _set(t, ["messages", 0, "body"], "I never said that"),
    lambda q, t: _set(t, ["messages", 0, "deleted"], True),
    lambda q, t: _set(t, ["messages", 0, "author"], person(q, "commenter")),
    lambda q, t: _set(t, ["author"], person(q, "commenter")),
    lambda q, t: _set(t, ["resolved"], True),
    lambda q, t: lambda d: d.get("comments", type=Map).__setitem__(t, Map({"id": t})),
    lambda q, t: lambda d: d.get("comments", type=Map).pop(t),
    lambda q, t: lambda d: add_thread(d, person(q, "editor")),
    lambda q, t: lambda d: thread(d, t)["messages"].append(Map({
        "id": "x", "author": person(q, "editor"), "body": "forged", "createdAt": 1.0})),
], ids=["edit message", "delete message", "re-author message", "re-author thread",
        "resolve", "replace thread", "delete thread",
        "thread under the editor's id", "reply under the editor's id"])
async def test_a_commenter_cannot_touch_the_editors_comments(quire, make):
    doc_id = await quire.new_doc()
    theirs = await editor_thread(quire, doc_id)
    before, after = await attempt(quire, doc_id, "commenter", make(quire, theirs),
                                  expect="refused")
    assert after["comments"] == before["comments"]
    (kept,) = after["comments"]["items"]
    assert kept["id"] == theirs and not kept["resolved"]
    assert kept["author"]["id"] == quire.cast["editor"].user_id
    assert [m["body"] for m in kept["messages"]] == ["Is this right?"]


async def test_a_commenter_cannot_clear_the_highlight_of_the_editors_thread(quire):
    doc_id = await quire.new_doc()
    theirs = await editor_thread(quire, doc_id)
    await attempt(quire, doc_id, "commenter",
                  lambda d: first_text(d).format(4, 9, {mark_key(theirs): None}),
                  expect="dropped")
    found = await eventually_thread(quire, doc_id, theirs)
    assert found["anchor_text"] == "first"


async def test_a_commenter_edits_and_resolves_their_own_thread(quire):
    doc_id = await quire.new_doc()
    client = await quire.joined(doc_id, "commenter")
    mine = add_thread(client.doc, person(quire, "commenter"))
    await eventually_thread(quire, doc_id, mine)
    await client.close()
    _, after = await attempt(quire, doc_id, "commenter",
                             _set(mine, ["messages", 0, "body"], "Reworded"), expect="applied")
    assert [m["body"] for t in after["comments"]["items"] for m in t["messages"]] == ["Reworded"]
    _, after = await attempt(quire, doc_id, "commenter", _set(mine, ["resolved"], True),
                             expect="applied")
    assert [t["resolved"] for t in after["comments"]["items"]] == [True]


# ---- viewers and editors ---------------------------------------------------------------------


@pytest.mark.parametrize("change", [
    lambda d: first_text(d).insert(0, "Hacked "),
    lambda d: add_thread(d, {"id": "nobody", "name": "V", "color": "#000000"}),
], ids=["text", "comment"])
async def test_a_viewer_changes_nothing(quire, change):
    doc_id = await quire.new_doc()
    before, after = await attempt(quire, doc_id, "viewer", change, expect="refused")
    assert after == before
    assert "Hacked" not in after["content"]["text"] and after["comments"]["items"] == []


async def test_an_editor_cannot_rewrite_a_commenters_message(quire):
    doc_id = await quire.new_doc()
    client = await quire.joined(doc_id, "commenter")
    theirs = add_thread(client.doc, person(quire, "commenter"))
    await eventually_thread(quire, doc_id, theirs)
    await client.close()
    await attempt(quire, doc_id, "editor", _set(theirs, ["messages", 0, "body"], "Edited"),
                  expect="refused")
    _, after = await attempt(quire, doc_id, "editor",
                             _set(theirs, ["author"], person(quire, "editor")), expect="refused")
    (kept,) = after["comments"]["items"]
    assert [m["body"] for m in kept["messages"]] == ["Is this right?"]  # the commenter's own words
    assert kept["author"]["id"] == quire.cast["commenter"].user_id
    _, after = await attempt(quire, doc_id, "editor", lambda d: first_text(d).insert(0, "Fine. "),
                             expect="applied")
    assert "\nFine. The first paragraph" in after["content"]["text"]
    _, after = await attempt(quire, doc_id, "editor", _set(theirs, ["resolved"], True),
                             expect="applied")
    assert [t["resolved"] for t in after["comments"]["items"]] == [True]
