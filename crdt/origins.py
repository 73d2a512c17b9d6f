"""Where a change to a document comes from: a client `Connection`, `SERVER` (a change Quire makes
itself: REST, restore, import, corrections) or `RELAY` (another server process, which stored it).
The committer (crdt/commit.py) decides from it what is stored and who is sent what."""

from __future__ import annotations

from crdt.connection import Connection

SERVER = "server"
RELAY = "relay"
Origin = Connection | str
