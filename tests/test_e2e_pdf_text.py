"""e2e/pdf_text.py reads the text of the PDFs the print tests make, whatever bytes its streams hold."""

from __future__ import annotations

import itertools
import zlib

from e2e.pdf_text import pdf_text


def _pdf(*streams: bytes) -> bytes:
    """A PDF of Flate content streams, each with its /Length written directly, as Skia writes them."""
    parts = [b"%PDF-1.4\n"]
    for number, data in enumerate(streams, start=1):
        parts.append(b"%d 0 obj\n<</Filter /FlateDecode\n/Length %d>> stream\n" % (number, len(data))
                     + data + b"\nendstream\nendobj\n")
    return b"".join(parts) + b"trailer\n<</Size %d>>\n%%%%EOF\n" % (len(streams) + 1)


def _compressed_ending_in(byte: int) -> tuple[bytes, bytes]:
    """A content stream showing a word, and its Flate data, which ends with `byte`."""
    for n in itertools.count():
        content = b"BT /F1 12 Tf (word %d) Tj ET" % n
        data = zlib.compress(content)
        if data[-1] == byte:
            return content, data
    raise AssertionError("unreachable")


def test_a_stream_whose_data_ends_in_a_carriage_return_is_read_whole() -> None:
    # Found in CI: one stream in 256 ends in \r, which a search for "\r\nendstream" took as its
    # line break; the inflate then failed on a truncated stream.
    content, data = _compressed_ending_in(0x0D)
    word = content.split(b"(")[1].split(b")")[0].decode()
    assert pdf_text(_pdf(zlib.compress(b"BT (before) Tj ET"), data, zlib.compress(b"BT (after) Tj ET"))) \
        == f"before {word} after"


def test_stream_data_holding_the_words_endstream_and_endobj_is_read_whole() -> None:
    content = b"BT (endstream endobj 2 0 obj) Tj ET"  # uncompressed, so the words are in the bytes
    pdf = b"%%PDF-1.4\n1 0 obj\n<</Length %d>> stream\n%s\nendstream\nendobj\n" % (len(content), content)
    assert pdf_text(pdf) == "endstream endobj 2 0 obj"
