"""One Settings class: every knob, from the environment (prefix QUIRE_) or the command line."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from uvicorn.config import LOG_LEVELS  # the names uvicorn.Config takes: Quire's are the same


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
    # images (server/images.py): per upload, decoded pixels, per document; a .zip import of
    # Markdown + images and a .zip export are bounded too
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_images_per_document: int = 1000
    max_import_zip_bytes: int = 50 * 1024 * 1024
    max_zip_entries: int = 2000
    max_export_zip_bytes: int = 256 * 1024 * 1024
    # critical, error, warning, info, debug or trace (any case)
    log_level: str = "info"
    # accounts and sharing: every route and the WebSocket check the caller's role; switch off
    # only for a private single-user instance (then everyone is the owner of everything)
    auth_required: bool = True
    # signs session cookies; generated into data_dir/secret.key on first run when unset
    secret_key: str | None = Field(default=None, repr=False)
    data_dir: str = "./data"
    session_max_age: int = 14 * 24 * 3600
    # set when served over HTTPS (cookies then carry the Secure flag)
    secure_cookies: bool = False
    # limits
    max_document_bytes: int = 32 * 1024 * 1024
    updates_per_second: float = 100.0  # per connection, sustained
    update_burst: int = 500  # per connection, short bursts (pastes, offline merges)
    max_connections_per_address: int = 256  # offices share one address behind NAT
    # ---- presence and sync limits, per connection (crdt/limits.py; issue 14 item 5) ----
    # A browser sends its own presence state (~300 bytes) on every caret move, unthrottled, and
    # again after every remote change (y-tiptap), sends back every change it receives (skipped
    # unread, bounded by what it was sent), and one sync step 1 per connection.
    awareness_states_per_frame: int = 16  # fresh states in one frame (1 + its other tabs'); 1008
    awareness_state_bytes: int = 4096  # one state's JSON (a browser's: 250-400 bytes); 4431
    awareness_ids_per_connection: int = 16  # client ids controlled (new ones: + 1/min); 1008
    awareness_per_second: float = 60.0  # frames that change presence; beyond: dropped, ...
    awareness_burst: int = 300  # ... never closed (the next state repairs a dropped one)
    query_awareness_per_second: float = 1.0  # query-awareness `[3]` (browsers send none); 1008
    query_awareness_burst: int = 5
    sync_requests_per_second: float = 0.2  # sync step 1, each an encoding of the doc; 1008
    sync_request_burst: int = 5
    # states in one awareness message from another process (Redis); beyond, it is dropped
    relay_awareness_states: int = 10_000
    login_attempts: int = 5  # failed sign-ins per username (4x per address) before back-off
    login_window_seconds: float = 3600.0  # failures are forgotten after this long without one
    # several processes share documents through Redis when this is set (redis://host:port/0)
    redis_url: str | None = None
    redis_prefix: str = "quire:"
    # version history: an automatic version once edits pause this long ...
    version_quiet_seconds: float = 10.0
    # ... or after this long of continuous editing (and whenever the last person leaves)
    version_max_interval_seconds: float = 300.0
    # versions are stored as deltas; a full state starts a new chain every N versions
    version_checkpoint_every: int = 32
    # thinning of automatic versions: "AGE:EVERY,..." — older than AGE keep one per EVERY
    # (units s, m, h, d, w). Named versions and restores are kept forever. "" keeps everything.
    version_retention: str = "1d:1h,7d:1d,90d:1w"
    # ---- CPU work on user input: Markdown import/export and version diffs (issue 14) ----
    # it runs on threads of its own, never on the event loop nor in the default thread pool
    # that sign-ins and database calls wait in ...
    cpu_workers: int = 2
    # ... and at most this many more jobs wait for them; past that a request gets 503
    cpu_queue: int = 4
    # seconds one Markdown import or export (or version view) may compute; past it: 422
    markdown_budget_seconds: float = 10.0
    # parts one import may create (paragraphs, list items, table cells, formatted runs);
    # a realistic 1 MB document has ~50,000
    max_import_nodes: int = 200_000
    # seconds a version's word diff may take before it falls back to a coarser (line) diff
    diff_budget_seconds: float = 2.0

    # ---- sessions, origins, proxies and throttles (issue 14, item 6) ------------------------
    # the address people open Quire at (https://quire.example.com): WebSockets from any other
    # origin are refused, and share links are built on it. Unset: the Host the request came to
    public_url: str | None = None
    # more origins whose pages may open document WebSockets (comma-separated, scheme://host:port)
    allowed_origins: str = ""
    # reverse proxies whose X-Forwarded-For / X-Real-IP are believed (comma-separated IPs or
    # CIDRs, e.g. 127.0.0.1 for nginx on the same host); nobody's by default
    trusted_proxies: str = ""
    # live connections re-check their session, link and invitation this often (expiry)
    access_recheck_seconds: float = 30.0
    # a granted access decision is reused this long by new connections (0: ask every time);
    # any announced change of access clears it at once (server/access_cache.py)
    access_cache_seconds: float = 2.0
    # the search index follows a document this long after its edits pause (server/search.py)
    search_debounce_seconds: float = 2.0
    # ---- notifications (issue 16) -------------------------------------------------------------
    # where notification emails are sent through: smtp://[user:password@]host[:port] (STARTTLS
    # when the server offers it; ?starttls=require to insist) or smtps://… (TLS from the start).
    # Unset: no email is sent; the inbox works all the same
    smtp_url: str | None = None
    # the sender of notification emails
    email_from: str = "Quire <quire@localhost>"
    # unread notifications are emailed as one digest per person once the oldest is this old
    email_digest_seconds: float = 600.0
    # each failed send waits twice as long before the next try, up to this many seconds
    email_retry_max_seconds: float = 600.0
    # webhooks may POST to private, loopback and link-local addresses (an intranet; the tests)
    webhook_allow_private: bool = False
    # a failed webhook delivery is tried again after this, then 4×, 16×… (6 attempts in all)
    webhook_retry_seconds: float = 10.0
    webhook_timeout_seconds: float = 10.0
    # each failed sign-in past the free ones doubles the wait, up to this many seconds
    login_backoff_max_seconds: float = 300.0
    # new accounts per client address per hour (each costs a slow password hash)
    signups_per_hour: int = 20
    # password hashes (sign-up, sign-in, password change) computed at once, in threads ...
    password_hash_workers: int = 2
    # ... and how many more may wait for one; past that, 503 "busy, try again"
    password_hash_queue: int = 64
    # /metrics answers only `Authorization: Bearer <this>`; unset: /metrics is not served (404)
    metrics_token: str | None = Field(default=None, repr=False)

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().lower()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return level
