"""The official JS client (yjs + y-websocket on Node) against a real Quire server,
with a pycrdt client on the other side of the document."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from pycrdt import Text, XmlElement, XmlFragment, XmlText

from tests.support.servers import QuireProcess
from tests.support.yclient import open_client as yclient

from .conftest import ACCOUNT, require_node
from .node_client import node_client

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _node() -> None:
    require_node(HERE)


async def test_node_edits_reach_pycrdt(quire_server: QuireProcess) -> None:
    doc_id = quire_server.new_doc()
    async with node_client() as node, yclient(quire_server.ws(doc_id)) as py:
        await node.connect(quire_server.ws_base, doc_id, token=quire_server.token)
        await node.insert_text("t", "hello from node")
        await node.xml_append("first paragraph")
        await node.xml_append("A heading", tag="heading", attrs={"level": 2})

        text = py.doc.get("t", type=Text)
        fragment = py.doc.get("default", type=XmlFragment)
        await py.wait_until(lambda: str(text) == "hello from node" and len(fragment.children) == 2)

        first, second = list(fragment.children)
        assert isinstance(first, XmlElement) and first.tag == "paragraph"
        assert [str(child) for child in first.children] == ["first paragraph"]
        assert second.tag == "heading" and int(second.attributes["level"]) == 2
        state = await node.state(xml=["default"])
        assert str(fragment) == state["xmlString"]["default"]


async def test_pycrdt_edits_reach_node(quire_server: QuireProcess) -> None:
    doc_id = quire_server.new_doc()
    async with node_client() as node, yclient(quire_server.ws(doc_id)) as py:
        await node.connect(quire_server.ws_base, doc_id, token=quire_server.token)
        text = py.doc.get("t", type=Text)
        fragment = py.doc.get("default", type=XmlFragment)
        with py.doc.transaction():
            text += "hello from pycrdt"
            fragment.children.append(XmlElement("paragraph", {}, [XmlText("from python")]))

        state = await node.wait_state(
            lambda s: s["texts"]["t"] == "hello from pycrdt" and s["xml"]["default"]["children"],
            texts=["t"], xml=["default"],
        )
        paragraph = state["xml"]["default"]["children"][0]
        assert paragraph["name"] == "paragraph"
        assert paragraph["children"][0]["text"] == "from python"
        assert state["xmlString"]["default"] == str(fragment)


async def test_concurrent_edits_converge(quire_server: QuireProcess) -> None:
    doc_id = quire_server.new_doc()
    async with node_client() as node, yclient(quire_server.ws(doc_id)) as py:
        await node.connect(quire_server.ws_base, doc_id, token=quire_server.token)
        text = py.doc.get("t", type=Text)
        # Both insert at index 0; the pycrdt edit is still queued when Node makes its own.
        text.insert(0, "PY")
        await node.insert_text("t", "NODE", index=0)
        state = await node.wait_state(lambda s: len(s["texts"]["t"]) == 6, texts=["t"])
        await py.wait_until(lambda: len(str(text)) == 6)
        assert state["texts"]["t"] == str(text)
        assert sorted(str(text).replace("NODE", "")) == ["P", "Y"]


async def test_awareness_both_ways(quire_server: QuireProcess) -> None:
    """Presence flows both ways; a signed-in person shows under the account's name and username
    (the server rewrites `user.name` and `user.username`), everything else arrives as sent."""
    doc_id = quire_server.new_doc()
    node_user = {"user": {"name": "Node", "color": "#112233"}, "cursor": None}
    py_user = {"user": {"name": "Python", "color": "#445566"}}

    def as_account(state: dict) -> dict:
        return {**state, "user": {**state["user"], "name": ACCOUNT, "username": ACCOUNT}}

    async with node_client() as node:
        node_id = await node.connect(quire_server.ws_base, doc_id, token=quire_server.token)
        async with yclient(quire_server.ws(doc_id)) as py:
            await node.set_awareness(node_user)
            await py.wait_until(lambda: py.remote_states().get(node_id) == as_account(node_user))

            py.set_awareness(py_user)
            py_id = str(py.awareness.client_id)
            await node.wait_state(lambda s: s["awareness"].get(py_id) == as_account(py_user))
        # The pycrdt client left: its state is gone for the Node client.
        state = await node.wait_state(lambda s: py_id not in s["awareness"])
        assert py_id not in state["awareness"]


async def test_awareness_removed_when_node_client_vanishes(quire_server: QuireProcess) -> None:
    """A client killed without a goodbye must not leave a ghost cursor behind."""
    doc_id = quire_server.new_doc()
    async with yclient(quire_server.ws(doc_id)) as py:
        async with node_client() as node:
            node_id = await node.connect(quire_server.ws_base, doc_id, token=quire_server.token)
            await node.set_awareness({"user": {"name": "Ghost", "color": "#abcdef"}})
            await py.wait_until(lambda: node_id in py.remote_states())
            node._process.kill()  # no awareness-null message, the socket just drops
        await py.wait_until(lambda: node_id not in py.remote_states(), timeout=10)
        assert node_id not in py.remote_states()


async def test_saved_confirmation_reaches_node(quire_server: QuireProcess) -> None:
    """With ?saved=1 the official client receives message 100 and can show "Saved"."""
    doc_id = quire_server.new_doc()
    async with node_client() as node:
        await node.connect(quire_server.ws_base, doc_id, token=quire_server.token, saved="1")
        await node.insert_text("t", "persist me")
        state = await node.wait_state(
            lambda s: s["savedClock"] is not None and s["savedClock"] >= s["localClock"])
        assert state["localClock"] > 0


@pytest.mark.parametrize(("token", "code"), [("", 4401), ("qp_not-a-real-token", 4401)],
                         ids=["no-token", "bad-token"])
async def test_refused_node_client_stops_reconnecting(quire_server: QuireProcess, token: str,
                                                      code: int) -> None:
    """Close codes 44xx are terminal for y-websocket: the official client gives up at once."""
    doc_id = quire_server.new_doc()
    async with node_client() as node:
        params = {"token": token} if token else {}
        await node.connect(quire_server.ws_base, doc_id, wait=False, **params)
        state = await node.wait_state(lambda s: s["counters"]["closes"])
        assert state["counters"]["closes"] == [code]
        await asyncio.sleep(1.0)  # the first retry would come after 100 ms
        state = await node.state()
        assert state["counters"]["closes"] == [code] and not state["synced"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_node_resyncs_after_server_restart(quire_server: QuireProcess, sig: int) -> None:
    doc_id = quire_server.new_doc()
    async with node_client() as node:
        await node.connect(quire_server.ws_base, doc_id, token=quire_server.token)
        await node.insert_text("t", "before;")
        async with yclient(quire_server.ws(doc_id)) as py:
            text = py.doc.get("t", type=Text)
            await py.wait_until(lambda: str(text) == "before;")

        quire_server.stop(sig)
        await node.wait_state(lambda s: not s["wsconnected"])
        await node.insert_text("t", "offline;")  # made while the server is down
        connections_before = (await node.state())["counters"]["connected"]
        quire_server.start()

        # Meanwhile a pycrdt client edits the restarted server; the provider reconnects by itself.
        async with yclient(quire_server.ws(doc_id)) as py:
            text = py.doc.get("t", type=Text)
            text.insert(0, "meanwhile;")
            state = await node.wait_state(
                lambda s: "meanwhile;" in s["texts"]["t"] and s["synced"], texts=["t"], timeout=15)
            await py.wait_until(lambda: "offline;" in str(text))
            assert state["counters"]["connected"] > connections_before
            final = await node.wait_state(lambda s: s["texts"]["t"] == str(text), texts=["t"])
        assert sorted(final["texts"]["t"].split(";")) == sorted(["before", "offline", "meanwhile", ""])
