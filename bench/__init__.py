"""Quire benchmarks: real Yjs clients (y-websocket on Node) against Quire and two peer servers.

Run with ``python -m bench`` (see bench/README.md).
"""
