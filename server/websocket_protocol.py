"""uvicorn's websockets-sansio protocol, minus the handshake it keeps for a connection's life.

uvicorn holds the upgrade request and response (header objects from `websockets`) and the
scope's header list on the protocol for as long as the socket is open: about 4 KiB per
connection that nothing reads once the accept is sent (Quire reads what it needs before it
accepts). A document socket lives for hours and a server holds thousands of them.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class WebSocketProtocol(WebSocketsSansIOProtocol):
    async def send(self, message) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self.request = None
            self.response = None
            self.scope["headers"] = []
