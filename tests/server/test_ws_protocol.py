"""The y-websocket protocol over real sockets against a server on port 0."""

from __future__ import annotations

import asyncio

from pycrdt import Text, write_var_uint

from tests.support.yclient import YClient, decode_state_vector, eventually, joined


async def test_clients_converge(server):
    doc_id = await server.new_doc()
    clients = [await joined(server, doc_id) for _ in range(4)]
    texts = [c.doc.get("t", type=Text) for c in clients]
    for i, text in enumerate(texts):
        text.insert(0, f"[{i}]")
    await eventually(lambda: all(len(str(t)) == 12 for t in texts))
    assert len({str(t) for t in texts}) == 1
    room = server.rooms.open_room(doc_id)
    assert str(room.doc.get("t", type=Text)) == str(texts[0])
    for c in clients:
        await c.close()


async def test_late_joiner_gets_full_state(server):
    doc_id = await server.new_doc()
    a = await joined(server, doc_id)
    a.doc.get("t", type=Text).insert(0, "written before you came")
    await eventually(lambda: server.rooms.stats.updates_persisted >= 1)
    late = await joined(server, doc_id)
    assert str(late.doc.get("t", type=Text)) == "written before you came"
    await a.close()
    await late.close()


async def test_state_survives_room_unload(server):
    doc_id = await server.new_doc()
    a = await joined(server, doc_id)
    a.doc.get("t", type=Text).insert(0, "kept")
    await eventually(lambda: server.rooms.stats.updates_persisted >= 1)
    await a.close()
    await eventually(lambda: server.rooms.open_room(doc_id) is None, timeout=5)
    b = await joined(server, doc_id)
    assert str(b.doc.get("t", type=Text)) == "kept"
    await b.close()


async def test_awareness_add_update_remove_and_echo(server):
    doc_id = await server.new_doc()
    # a share-link holder has no account: it chooses its own name
    link = await server.link(doc_id, "editor")
    a = await joined(server, doc_id, token=link)
    b = await joined(server, doc_id)
    await a.set_user({"user": {"name": "Zoë", "color": "#aa3300"}})
    # relayed to the other client; a first state is not sent back to its sender (it would
    # ignore it: same clock), who has just been sent the document
    await eventually(lambda: b.awareness.states.get(a.doc.client_id, {}).get("user", {})
                     .get("name") == "Zoë")
    await asyncio.sleep(0.1)
    assert not any(m[0] == 1 for m in a.received)
    await a.set_user({"user": {"name": "Zoë L.", "color": "#aa3300", "cursor": None}})
    await eventually(lambda: b.awareness.states.get(a.doc.client_id, {}).get("user", {})
                     .get("name") == "Zoë L.")
    # a change (as every 15 s renewal) is echoed to the sender: y-websocket's client
    # reconnects after 30 s without hearing anything, and someone alone hears nothing else
    await eventually(lambda: any(m[0] == 1 for m in a.received))
    # closing the connection removes the state it controlled: no ghost cursor
    await a.close()
    await eventually(lambda: a.doc.client_id not in b.awareness.states, timeout=2)
    await b.close()


async def test_signed_in_people_show_under_their_account_name(server):
    doc_id = await server.new_doc()
    a = await joined(server, doc_id)
    b = await joined(server, doc_id)
    await a.set_user({"user": {"name": "Somebody Else", "username": "admin",
                               "color": "#aa3300"}})
    await eventually(lambda: b.awareness.states.get(a.doc.client_id, {}).get("user", {})
                     .get("name") == server.username.title())
    # nobody claims someone else's username either (avatars tell namesakes apart by it)
    assert b.awareness.states[a.doc.client_id]["user"] == {
        "name": server.username.title(), "username": server.username, "color": "#aa3300"}
    await a.close()
    await b.close()


async def test_newcomer_receives_existing_awareness(server):
    doc_id = await server.new_doc()
    a = await joined(server, doc_id)
    await a.set_user({"user": {"name": "Ada", "color": "#aa3300"}})
    await eventually(lambda: a.doc.client_id in server.rooms.open_room(doc_id).awareness.states)
    b = await joined(server, doc_id)
    await eventually(lambda: a.doc.client_id in b.awareness.states)
    assert b.awareness.states[a.doc.client_id]["user"]["color"] == "#aa3300"
    await a.close()
    await b.close()


async def test_query_awareness_is_answered(server):
    doc_id = await server.new_doc()
    a = await joined(server, doc_id)
    await a.set_user({"user": {"name": "Ada", "color": "#aa3300"}})
    b = await joined(server, doc_id)
    await eventually(lambda: a.doc.client_id in b.awareness.states)
    before = sum(1 for m in b.received if m[0] == 1)
    await b.send_raw(bytes([3]))
    await eventually(lambda: sum(1 for m in b.received if m[0] == 1) > before)
    answer = [m for m in b.received if m[0] == 1][-1]
    from pycrdt import Decoder

    from crdt.protocol import validate_awareness

    # the answer carries every known state, Ada's included
    entries = validate_awareness(Decoder(answer[1:]).read_message())
    assert a.doc.client_id in {client_id for client_id, _, _ in entries}
    await a.close()
    await b.close()


async def test_unknown_document_is_refused_terminally(server):
    client = YClient(server.ws("no-such-document"))
    await client.connect()
    await asyncio.wait_for(client.closed.wait(), 5)
    assert client.close_code == 4404
    assert client.close_reason == "document not found"


async def test_persisted_confirmation_only_when_asked(server):
    doc_id = await server.new_doc()
    plain = await joined(server, doc_id)
    asking = await joined(server, doc_id, saved="1")
    asking.doc.get("t", type=Text).insert(0, "saved?")
    plain.doc.get("t", type=Text).insert(0, "x")
    own = asking.doc.client_id
    local_clock = decode_state_vector(asking.doc.get_state())[own]
    # the confirmed state vector covers everything this client wrote
    await eventually(lambda: asking.persisted_sv is not None
                     and decode_state_vector(asking.persisted_sv).get(own, 0) >= local_clock)
    await eventually(lambda: len(str(plain.doc.get("t", type=Text))) == 7)
    assert all(m[0] != 100 for m in plain.received)
    await plain.close()
    await asking.close()


async def test_a_reader_echoing_others_presence_does_not_take_it_away_when_it_leaves(server):
    """y-websocket's provider sends back every awareness change it receives (same clock). Only
    what a connection itself brought in is its own: when a reader leaves, the others' cursors
    stay, with no flicker (no removal is sent for them)."""
    doc_id = await server.new_doc()
    writer = await joined(server, doc_id)
    await writer.set_user({"user": {"name": "Ada", "color": "#aa3300"}})
    watcher = await joined(server, doc_id)
    await eventually(lambda: writer.doc.client_id in watcher.awareness.states)
    reader = await joined(server, doc_id)
    await eventually(lambda: writer.doc.client_id in reader.awareness.states)
    # the reader echoes the writer's state back, as the browser provider does
    echo = reader.awareness.encode_awareness_update([writer.doc.client_id])
    await reader.send_raw(bytes([1]) + write_var_uint(len(echo)) + echo)
    await asyncio.sleep(0.1)
    removals_before = len(watcher.received)
    await reader.close()
    await asyncio.sleep(0.3)
    room = server.rooms.open_room(doc_id)
    assert writer.doc.client_id in room.awareness.states
    assert writer.doc.client_id in watcher.awareness.states
    # nothing about the writer was sent to the watcher when the reader left
    sent = [m for m in watcher.received[removals_before:] if m[0] == 1]
    assert sent == [], sent
    await writer.close()
    await watcher.close()


async def test_each_newcomer_sees_presence_as_it_is_now(server):
    doc_id = await server.new_doc()
    a = await joined(server, doc_id)
    await a.set_user({"user": {"name": "Ada", "color": "#aa3300"}})
    first = await joined(server, doc_id)
    await eventually(lambda: a.doc.client_id in first.awareness.states)
    await a.set_user({"user": {"name": "Ada", "color": "#0033aa"}, "cursor": 4})
    await eventually(lambda: first.awareness.states[a.doc.client_id].get("cursor") == 4)
    second = await joined(server, doc_id)
    await eventually(lambda: a.doc.client_id in second.awareness.states)
    state = second.awareness.states[a.doc.client_id]
    assert state["cursor"] == 4 and state["user"]["color"] == "#0033aa"
    await a.close()
    await eventually(lambda: a.doc.client_id not in first.awareness.states, timeout=2)
    third = await joined(server, doc_id)
    await asyncio.sleep(0.1)
    assert a.doc.client_id not in third.awareness.states  # gone for newcomers too
    for client in (first, second, third):
        await client.close()


async def test_the_first_client_keeps_no_copy_of_the_stored_state(server):
    """The stored state the opener read for the first client builds the room; the socket's
    handler, which lives as long as the client, must not keep those bytes too (for a big
    document, a second copy for hours)."""
    import gc

    from crdt.rooms import Preloaded

    doc_id = await server.new_doc()
    first = await joined(server, doc_id)
    first.doc.get("t", type=Text).insert(0, "stored, then read back")
    await eventually(lambda: server.rooms.stats.updates_persisted >= 1)
    await first.close()
    # unloaded: the next client's state is read ahead, by the opener
    await eventually(lambda: server.rooms.preload_ticket(doc_id) is not None)
    server.app.state.access_cache.clear()  # decided afresh, not from the cache
    visits = server.app.state.opener.visits
    again = await joined(server, doc_id)
    assert server.app.state.opener.visits == visits + 1
    assert str(again.doc.get("t", type=Text)) == "stored, then read back"
    assert [o for o in gc.get_objects() if isinstance(o, Preloaded)] == []
    await again.close()
