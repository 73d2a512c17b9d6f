"""One Settings class: every knob, from the environment (prefix QUIRE_) or the command line."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUIRE_", extra="ignore")

    database_url: str = "sqlite:///./data/quire.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # a WebSocket frame larger than this closes its connection (1009)
    max_message_bytes: int = 8 * 1024 * 1024
    # a client whose unsent backlog passes this is disconnected (it resyncs on reconnect)
    max_backlog_bytes: int = 32 * 1024 * 1024
    # fold the update log into a snapshot after this many updates (and when a room unloads)
    compact_every: int = 500
    # seconds a document stays in memory after its last client left
    unload_after: float = 5.0
    # permessage-deflate costs more CPU than it saves on small Yjs frames (see BENCHMARKS.md)
    ws_per_message_deflate: bool = False
    # SQLite: how long a write waits for a lock before it fails (and clients resync later)
    db_busy_timeout_ms: int = 5000
    max_import_bytes: int = 5 * 1024 * 1024
    log_level: str = "info"
