"""Stored updates merged into one (compaction, versions), and fingerprints of stored bytes.

What pycrdt could not read safely is left out (crdt/update_format.py `sanitize`) and handed back
to the caller to quarantine, so a damaged part of a document's log never stops it loading.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from pycrdt import Doc

from crdt.update_format import sanitize

log = logging.getLogger("quire.room")


def merge_to_state(updates: list[bytes],
                   left_out: list[tuple[bytes, str]] | None = None,
                   screened: bytes | None = None) -> bytes:
    """Combine stored updates into one equivalent update, garbage-collected (used by
    compaction). What pycrdt could not read safely is left out (see `sanitize`) and listed
    in `left_out` (the original bytes and why), for the caller to quarantine. A part whose
    digest (`digest`) is `screened` was read safely already and is not read again."""
    doc: Doc[Any] = Doc()
    with doc.transaction():
        for update in updates:
            if screened is not None and digest(update) == screened:
                doc.apply_update(update)
                continue
            clean, why = sanitize(update)
            if why:
                log.error("compaction left out (part of) a stored update: %s", why)
                if left_out is not None:
                    left_out.append((update, why))
            if clean is not None:
                doc.apply_update(clean)
    return doc.get_update()


def digest(data: bytes) -> bytes:
    """A short fingerprint of stored bytes (to know a snapshot again without keeping it)."""
    return hashlib.blake2b(data, digest_size=16).digest()
