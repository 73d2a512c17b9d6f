"""The `quire` command: `quire serve` (more subcommands join as features land)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys

import uvicorn
from starlette.datastructures import State

from server.config import Settings
from server.logs import redact_server_logs, setup_logging

log = logging.getLogger("quire")


class QuireServer(uvicorn.Server):
    """On SIGTERM/SIGINT: persist and compact every open room and close its sockets with 1001
    *before* uvicorn tears connections down, so clients reconnect to the restarted server."""

    def __init__(self, config: uvicorn.Config, app_state: State) -> None:
        super().__init__(config)
        self.app_state = app_state  # the app's state: its rooms and notification inbox

    def handle_exit(self, sig: int, frame) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises captured signals after shutting down, so the process would die
        # "by SIGTERM"; a graceful stop on SIGTERM is a clean exit (status 0)
        if sig == signal.SIGTERM and sig in self._captured_signals:
            self._captured_signals.remove(sig)

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        # everything allocated by now lives as long as the server: keep it out of the
        # collector's full passes, which would otherwise walk it (pauses felt by keystrokes)
        gc.collect()
        gc.freeze()
        # By default Python looks for cycles among its youngest objects every 700 allocations
        # and, ever more often as the documents held grow, walks every object of the process:
        # with two thousand documents open that was a tenth of the work of opening one more
        # (2.5–2.8 → 2.0–2.2 ms of CPU each). So the older generations are walked only every
        # million allocations (500 young collections, as 20 × 50,000 did before), and the
        # youngest every 2,000: walking what was just made, while it is still in the CPU's
        # caches, costs half as much per object as walking 50,000 (1,000 documents opening:
        # collections 20-33 ms against 40-64 ms in all, pauses of 0.3 ms instead of 12 ms).
        gc.set_threshold(2_000, 500, 20)

    async def shutdown(self, sockets=None) -> None:
        inbox = getattr(self.app_state, "inbox", None)
        if inbox is not None:
            inbox.close()  # live notification counts end, or uvicorn would wait for them
        rooms = getattr(self.app_state, "rooms", None)
        if rooms is not None:
            try:
                await asyncio.wait_for(rooms.aclose(), timeout=20)
            except Exception:
                log.exception("graceful room shutdown failed")
        await super().shutdown(sockets)


def serve(args: argparse.Namespace) -> None:
    overrides = {k: v for k, v in {"host": args.host, "port": args.port,
                                    "database_url": args.database_url}.items() if v is not None}
    settings = Settings(**overrides)
    setup_logging(settings.log_level)
    # the database writer thread hands each commit back to the event loop; a shorter GIL
    # switch interval (default 5 ms) keeps that hand-off from adding to keystroke latency
    sys.setswitchinterval(0.0005)
    from server.app import create_app
    from server.websocket_protocol import HttpProtocol, WebSocketProtocol

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # no logging set-up of uvicorn's own: its lines (requests, sockets accepted, start and
        # stop) reach the root handler setup_logging made, in Quire's one key=value format
        log_config=None,
        http=HttpProtocol,
        ws=WebSocketProtocol,
        ws_max_size=settings.max_message_bytes + 1024 * 1024,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default: the app decides
        # whom to believe (QUIRE_TRUSTED_PROXIES, server/proxies.py)
        proxy_headers=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    redact_server_logs()  # after uvicorn.Config set its loggers' levels
    QuireServer(config, app.state).run()


def versions(args: argparse.Namespace) -> None:
    """Print a document's versions, newest first."""
    from storage.db import make_engine
    from storage.documents import document_exists
    from storage.versions import list_versions

    overrides = {"database_url": args.database_url} if args.database_url else {}
    engine = make_engine(Settings(**overrides).database_url)
    try:
        if not document_exists(engine, doc_id=args.doc_id):
            sys.exit(f"quire: no document {args.doc_id!r}")
        items, total = list_versions(engine, doc_id=args.doc_id, limit=args.limit)
    finally:
        engine.dispose()
    out = sys.stdout
    out.write(f"{'ID':>8}  {'CREATED (UTC)':19}  {'KIND':7}  {'SIZE':>9}  AUTHORS / NAME\n")
    for v in items:
        when = v.created_at.strftime("%Y-%m-%d %H:%M:%S")
        who = ", ".join(v.authors) or "-"
        label = f"{who}  {v.name}" if v.name else who
        out.write(f"{v.id:>8}  {when:19}  {v.kind:7}  {v.size:>9}  {label}\n")
    out.write(f"{total} version(s){f', {len(items)} shown' if len(items) < total else ''}\n")


def _engine(args: argparse.Namespace):
    from storage.db import make_engine

    overrides = {"database_url": args.database_url} if args.database_url else {}
    return make_engine(Settings(**overrides).database_url)


def export(args: argparse.Namespace) -> None:
    """Write a stored document as Markdown (to a file or stdout), no server needed."""
    from crdt.budget import BudgetExceeded, Deadline
    from server.markdown_io import authors_of, load_stored_doc, render
    from storage.documents import get_document

    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    engine = _engine(args)
    try:
        record = get_document(engine, doc_id=args.doc_id)
        if record is None:
            print(f"quire: document {args.doc_id!r} not found", file=sys.stderr)
            sys.exit(1)
        doc = load_stored_doc(engine, args.doc_id)
        authors = authors_of(engine, args.doc_id) if args.frontmatter else []
        try:
            text = render(doc, record, footnotes=args.comments == "footnotes",
                          frontmatter=args.frontmatter, authors=authors,
                          deadline=Deadline(settings.markdown_budget_seconds))
        except BudgetExceeded:
            print(f"quire: {args.doc_id!r} cannot be converted within "
                  f"{settings.markdown_budget_seconds:g} s (QUIRE_MARKDOWN_BUDGET_SECONDS)",
                  file=sys.stderr)
            sys.exit(1)
    finally:
        engine.dispose()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


def import_(args: argparse.Namespace) -> None:
    """Create a document from a Markdown file and print its id."""
    from pathlib import Path

    from crdt.budget import BudgetExceeded, Deadline
    from crdt.markdown import TooManyNodes
    from server.markdown_io import ImportError_, create_from_markdown, decode_markdown, title_from

    path = Path(args.file)
    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    try:
        text = decode_markdown(path.read_bytes(), limit=settings.max_import_bytes)
    except (OSError, ImportError_) as exc:
        print(f"quire: cannot import {path}: {exc}", file=sys.stderr)
        sys.exit(1)
    engine = _engine(args)
    try:
        owner_id = None
        if args.owner:
            from storage.accounts import get_user_by_username

            owner = get_user_by_username(engine, username=args.owner)
            if owner is None:
                print(f"quire: no user {args.owner!r}", file=sys.stderr)
                sys.exit(1)
            owner_id = owner.id
        try:
            record = create_from_markdown(
                engine, text, title=args.title or title_from(text, path.stem), owner_id=owner_id,
                deadline=Deadline(settings.markdown_budget_seconds),
                max_nodes=settings.max_import_nodes)
        except BudgetExceeded:
            print(f"quire: cannot import {path}: not converted within "
                  f"{settings.markdown_budget_seconds:g} s (QUIRE_MARKDOWN_BUDGET_SECONDS)",
                  file=sys.stderr)
            sys.exit(1)
        except TooManyNodes as exc:
            print(f"quire: cannot import {path}: {exc} (QUIRE_MAX_IMPORT_NODES)", file=sys.stderr)
            sys.exit(1)
        from server.search import index_stored

        index_stored(engine, record.id)  # findable at once, as an import over REST is
    finally:
        engine.dispose()
    print(record.id)


def user(args: argparse.Namespace) -> None:
    """`quire user create NAME` (asks for a password unless --password) and
    `quire user token NAME` (prints a new personal API token for scripts)."""
    import getpass

    from server.security import (
        PERSONAL_PREFIX,
        account_problem,
        hash_password,
        new_token,
        token_hash,
        valid_email,
    )
    from storage import accounts

    engine = _engine(args)
    try:
        if args.action == "create":
            password = args.password or getpass.getpass(f"Password for {args.name}: ")
            problem = account_problem(args.name, password)
            if problem:  # the same rule as sign-up: a name others can @mention and type
                print(f"quire: {problem}", file=sys.stderr)
                sys.exit(1)
            if args.email and not valid_email(args.email):
                print(f"quire: {args.email!r} does not look like an email address", file=sys.stderr)
                sys.exit(1)
            try:
                created = accounts.create_user(engine, username=args.name,
                                               display_name=args.display_name or args.name,
                                               password_hash=hash_password(password),
                                               email=args.email or None)
            except accounts.UsernameTaken:
                print(f"quire: the username {args.name!r} is taken", file=sys.stderr)
                sys.exit(1)
            print(f"created user {created.username}")
        else:
            found = accounts.get_user_by_username(engine, username=args.name)
            if found is None:
                print(f"quire: no user {args.name!r}", file=sys.stderr)
                sys.exit(1)
            token = new_token(PERSONAL_PREFIX)
            accounts.add_api_token(engine, user_id=found.id, token_hash=token_hash(token),
                                   name=args.token_name)
            print(token)
    finally:
        engine.dispose()


def token(args: argparse.Namespace) -> None:
    """Print a share-link token with a role on one document (for bots and benchmarks)."""
    from server.security import LINK_PREFIX, new_token, token_hash
    from storage import shares
    from storage.documents import document_exists

    engine = _engine(args)
    try:
        if not document_exists(engine, doc_id=args.doc_id):
            print(f"quire: document {args.doc_id!r} not found", file=sys.stderr)
            sys.exit(1)
        value = new_token(LINK_PREFIX)
        shares.create_share(engine, doc_id=args.doc_id, role=args.role, created_by=None,
                            token_hash=token_hash(value), label=args.label)
    finally:
        engine.dispose()
    print(value)


def db(args: argparse.Namespace) -> None:
    """`quire db upgrade` brings the database to the newest schema (`quire serve` does too, on
    start); `quire db current` prints its revision."""
    from sqlalchemy import create_engine

    from storage import migrations
    from storage.db import normalise_url

    url = normalise_url(args.database_url or Settings().database_url)
    if args.action == "upgrade":
        engine = _engine(args)  # make_engine upgrades
    else:
        engine = create_engine(url)
    try:
        revision = migrations.current(engine)
        newest = migrations.head()
        print(f"{revision or 'none'}{' (newest)' if revision == newest else f' (newest: {newest})'}")
    finally:
        engine.dispose()


def backup_(args: argparse.Namespace) -> None:
    """`quire backup FILE`: a consistent copy while the server runs (storage/backup.py)."""
    from pathlib import Path

    from storage.backup import BackupError, backup

    engine = _engine(args)
    try:
        count = backup(engine, Path(args.file), portable=args.portable)
    except BackupError as exc:
        sys.exit(f"quire: {exc}")
    finally:
        engine.dispose()
    print(f"backed up {count} documents to {args.file}")


def restore_(args: argparse.Namespace) -> None:
    """`quire restore FILE`: into an empty database, then rebuild the search index."""
    from pathlib import Path

    from server.search import index_stored
    from storage.backup import BackupError, restore
    from storage.documents import all_document_ids

    url = args.database_url or Settings().database_url
    try:
        count = restore(Path(args.file), url)
    except (BackupError, OSError) as exc:
        sys.exit(f"quire: {exc}")
    engine = _engine(args)
    try:
        for doc_id in all_document_ids(engine):
            index_stored(engine, doc_id)
    finally:
        engine.dispose()
    print(f"restored {count} documents")


def search_(args: argparse.Namespace) -> None:
    """`quire search reindex`: rebuild the search index of every document from storage."""
    from server.search import index_stored
    from storage.documents import all_document_ids

    engine = _engine(args)
    try:
        done = 0
        for doc_id in all_document_ids(engine):
            try:
                if index_stored(engine, doc_id):
                    done += 1
            except Exception as exc:  # one unreadable document does not stop the rest
                print(f"quire: document {doc_id}: {exc}", file=sys.stderr)
        print(f"indexed {done} documents")
    finally:
        engine.dispose()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quire", description="Quire collaborative editor")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="start the server")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=serve)
    p = sub.add_parser("versions", help="list a document's versions, newest first")
    p.add_argument("doc_id")
    p.add_argument("--database-url", default=None)
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=versions)
    p = sub.add_parser("export", help="write a document as Markdown (no server needed)")
    p.add_argument("doc_id")
    p.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")
    p.add_argument("--comments", choices=("none", "footnotes"), default="none")
    p.add_argument("--frontmatter", action="store_true")
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=export)
    p = sub.add_parser("import", help="create a document from a Markdown file; prints its id")
    p.add_argument("file")
    p.add_argument("--title", default=None)
    p.add_argument("--database-url", default=None)
    p.add_argument("--owner", default=None, help="username of the owner")
    p.set_defaults(func=import_)
    p = sub.add_parser("user", help="create an account, or print an API token for one")
    p.add_argument("action", choices=("create", "token"))
    p.add_argument("name")
    p.add_argument("--password", default=None)
    p.add_argument("--display-name", default=None)
    p.add_argument("--email", default=None, help="where notification emails go (create)")
    p.add_argument("--token-name", default="cli")
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=user)
    p = sub.add_parser("db", help="upgrade the database schema, or print its revision")
    p.add_argument("action", choices=("upgrade", "current"))
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=db)
    p = sub.add_parser("backup", help="write a consistent backup while the server runs")
    p.add_argument("file")
    p.add_argument("--portable", action="store_true",
                   help="JSON lines, for any database (always so on PostgreSQL)")
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=backup_)
    p = sub.add_parser("restore", help="restore a backup into an empty database")
    p.add_argument("file")
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=restore_)
    p = sub.add_parser("search", help="rebuild the search index from storage")
    p.add_argument("action", choices=("reindex",))
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=search_)
    p = sub.add_parser("token", help="print a share-link token with a role on a document")
    p.add_argument("doc_id")
    p.add_argument("--role", choices=("viewer", "commenter", "editor"), default="editor")
    p.add_argument("--label", default="cli")
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=token)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
