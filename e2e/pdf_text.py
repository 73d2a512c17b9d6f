"""The text of a PDF that headless Chromium made (Skia's PDF backend), for the print tests.

Not a PDF library: just enough for what Skia writes (plain `N 0 obj` objects, Flate streams,
Type0 fonts with a ToUnicode CMap, text shown by `Tj`/`TJ` with hex strings). Each text run
becomes one piece; pieces are joined by spaces, so compare with whitespace collapsed or removed.
"""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\b")
_BODY_END = re.compile(rb"stream\r?\n|endobj")  # a stream's data starts after its line break
_LENGTH = re.compile(rb"/Length (\d+)\b(?!\s+\d+\s+R)")  # written directly, not a reference
_STREAM_END = re.compile(rb"\r?\nendstream")
_FONT_REF = re.compile(rb"/(\w+) (\d+) 0 R")
_TOKEN = re.compile(rb"<([0-9A-Fa-f\s]*)>|\((?:\\.|[^\\)])*\)|\[|\]|/[^\s/<>\[\]()]+|[^\s/<>\[\]()]+")


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Each object's dictionary and its (inflated) stream.

    A stream is cut by its /Length, not by searching for `endstream`: compressed data is any
    bytes, and when its last byte is a carriage return a search takes it for the line break
    before `endstream` (one stream in 256; the inflate then failed on a truncated stream).
    """
    found: dict[int, tuple[bytes, bytes | None]] = {}
    position = 0
    while (start := _OBJECT.search(data, position)) is not None:
        number = int(start.group(1))
        end = _BODY_END.search(data, start.end())
        if end is None:
            break
        head = data[start.end():end.start()]
        if end.group(0) == b"endobj":
            found[number] = (head, None)
            position = end.end()
            continue
        length = _LENGTH.search(head)
        if length is not None:
            stop = end.end() + int(length.group(1))
        else:  # an indirect length: the first `endstream` after the data
            stream_end = _STREAM_END.search(data, end.end())
            stop = stream_end.start() if stream_end is not None else len(data)
        raw = data[end.end():stop]
        if b"/FlateDecode" in head:
            raw = zlib.decompress(raw)
        found[number] = (head, raw)
        closing = data.find(b"endobj", stop)
        position = closing + len(b"endobj") if closing >= 0 else len(data)
    return found


def _cmap(text: bytes) -> dict[int, str]:
    """A ToUnicode CMap: glyph code -> text."""
    mapping: dict[int, str] = {}

    def chars(hex_: bytes) -> str:
        return bytes.fromhex(hex_.decode()).decode("utf-16-be", errors="replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = chars(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block):
            start, end = int(lo, 16), int(hi, 16)
            if dst.startswith(b"["):
                for code, item in zip(range(start, end + 1), re.findall(rb"<([0-9A-Fa-f]+)>", dst), strict=False):
                    mapping[code] = chars(item)
            else:
                first = bytes.fromhex(dst[1:-1].decode())
                base = int.from_bytes(first[-2:], "big")
                for offset in range(end - start + 1):
                    mapping[start + offset] = (first[:-2] + (base + offset).to_bytes(2, "big")).decode(
                        "utf-16-be", errors="replace")
    return mapping


def pdf_text(data: bytes) -> str:
    """Every piece of text the PDF shows, in the order its pages draw them."""
    objects = _objects(data)
    fonts: dict[bytes, dict[int, str]] = {}
    for head, _stream in objects.values():
        for font_dict in re.findall(rb"/Font\s*<<(.*?)>>", head, re.S):
            for name, number in _FONT_REF.findall(font_dict):
                font_head = objects.get(int(number), (b"", None))[0]
                to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", font_head)
                cmap = objects.get(int(to_unicode.group(1)), (b"", None))[1] if to_unicode else None
                fonts[name] = _cmap(cmap) if cmap else {}
    pieces: list[str] = []
    for head, stream in objects.values():
        if stream is None or b"/Length1" in head or b"BT" not in stream:
            continue
        font: dict[int, str] = {}
        operands: list[bytes] = []
        for token in _TOKEN.finditer(stream):
            word = token.group(0)
            if word in (b"Tf", b"Tj", b"TJ", b"'", b'"'):
                if word == b"Tf" and len(operands) >= 2:
                    font = fonts.get(operands[-2].lstrip(b"/"), {})
                elif word != b"Tf":
                    shown = ""
                    for operand in operands:
                        if operand.startswith(b"<"):
                            raw = bytes.fromhex(re.sub(rb"\s", b"", operand[1:-1]).decode())
                            shown += "".join(font.get(int.from_bytes(raw[i:i + 2], "big"), "")
                                             for i in range(0, len(raw) - 1, 2))
                        elif operand.startswith(b"("):
                            shown += operand[1:-1].decode("latin-1")
                    pieces.append(shown)
                operands = []
            elif word[:1].isalpha() and word not in (b"true", b"false"):
                operands = []  # any other operator
            else:
                operands.append(word)
    return " ".join(pieces)
