"""How faithfully real Markdown survives Quire: import -> export on documents nobody here wrote.

The corpus is what the installed packages ship: READMEs, changelogs and contributing guides
inside `frontend/node_modules` (npm), and the Markdown long descriptions in the installed pip
packages' METADATA. For each file, the top-level blocks of the original and of the export are
rendered by markdown-it (CommonMark + GFM tables and strikethrough, as GitHub shows them) and
aligned in order; a block counts as identical when its HTML is the same as a browser lays it
out (a run of white space is one space outside `<pre>`; a soft line break is a space; inline
formatting tags that wrap exactly the same text in a chain, such as `<strong><a href=…>x</a>
</strong>` and `<a href=…><strong>x</strong></a>`, are compared in one order, since the nesting
order of such tags changes nothing a reader sees and a document keeps marks as a set). The
figure is identical blocks / original blocks, per file and overall.

    python -m bench.markdown_corpus            # the table and the total
    python -m bench.markdown_corpus --show 5   # also the first 5 blocks that differ, per file
"""

from __future__ import annotations

import argparse
import difflib
import email.parser
import re
import sys
from pathlib import Path

from markdown_it import MarkdownIt
from pycrdt import Doc

from crdt.markdown import export_markdown, import_markdown

ROOT = Path(__file__).resolve().parent.parent
NPM = ["yjs/README.md", "lib0/README.md", "y-protocols/README.md", "y-websocket/README.md",
       "y-indexeddb/README.md", "prosemirror-model/README.md", "prosemirror-model/CHANGELOG.md",
       "prosemirror-state/CHANGELOG.md", "prosemirror-view/CHANGELOG.md",
       "prosemirror-transform/CHANGELOG.md", "prosemirror-tables/README.md",
       "prosemirror-search/README.md", "prosemirror-history/CONTRIBUTING.md", "esbuild/README.md",
       "axe-core/README.md", "@tiptap/core/README.md", "linkifyjs/README.md",
       "orderedmap/README.md", "w3c-keyname/README.md"]
PIP = ["fastapi", "pydantic", "httpx", "redis", "starlette", "sqlmodel", "pillow",
       "markdown_it_py", "attrs", "hypothesis", "python_dotenv", "httpcore", "argon2_cffi",
       "annotated_types", "python_multipart"]

_md = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def corpus() -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []
    for rel in NPM:
        path = ROOT / "frontend" / "node_modules" / rel
        if path.is_file():
            files.append((f"npm:{rel}", path.read_text(encoding="utf-8", errors="replace")))
    site = next((ROOT / ".venv" / "lib").glob("python3*/site-packages"), None)
    for name in PIP:
        for meta in sorted(site.glob(f"{name}-*.dist-info/METADATA")) if site else []:
            message = email.parser.Parser().parsestr(meta.read_text(encoding="utf-8",
                                                                    errors="replace"))
            if "markdown" in (message.get("Description-Content-Type") or ""):
                body = message.get_payload()
                if isinstance(body, str) and body.strip():
                    files.append((f"pip:{name}", body))
    return files


def blocks(markdown: str) -> list[str]:
    """The HTML of each top-level block, in order."""
    tokens = _md.parse(markdown)
    out: list[str] = []
    start = 0
    for i, token in enumerate(tokens):
        if token.level == 0 and token.nesting <= 0:
            html = normalize(_md.renderer.render(tokens[start:i + 1], _md.options, {}))
            if _VISIBLE.search(html):  # a comment, an empty <div>: nothing a reader sees
                out.append(html)
            start = i + 1
    return out


_PRE = re.compile(r"(<pre>.*?</pre>)", re.S)
_BLOCK_TAG = re.compile(r"\s*(</?(?:p|li|ul|ol|h[1-6]|blockquote|table|thead|tbody|tr|td|th|hr|"
                        r"pre|div|br)\b[^>]*>)\s*")


# Inline tags whose nesting order around the same text renders the same: `<strong><a>x</a>
# </strong>` and `<a><strong>x</strong></a>` are one bold link. Only chains of such tags with
# nothing but text inside the innermost are reordered; attributes are kept as written.
_INLINE = "a|strong|em|del|s|u|code|sub|sup|abbr|dfn"
_CHAIN = re.compile(rf"((?:<(?:{_INLINE})(?:\s[^<>]*)?>){{2,}})([^<]*)((?:</(?:{_INLINE})>){{2,}})")
_OPENER = re.compile(rf"<({_INLINE})(?:\s[^<>]*)?>")


def _canonical_chain(match: re.Match[str]) -> str:
    openers = _OPENER.findall(match.group(1))
    tags = [m.group(0) for m in _OPENER.finditer(match.group(1))]
    closers = re.findall(r"</([a-z]+)>", match.group(3))
    n = 0  # how many innermost openers the closers right after the text close, in order
    while n < min(len(tags), len(closers)) and closers[n] == openers[len(openers) - 1 - n]:
        n += 1
    if n < 2:
        return match.group(0)
    outer, inner = tags[:-n], sorted(tags[-n:])
    names = [_OPENER.match(t).group(1) for t in inner]  # type: ignore[union-attr]
    return ("".join(outer) + "".join(inner) + match.group(2)
            + "".join(f"</{name}>" for name in reversed(names))
            + "".join(f"</{c}>" for c in closers[n:]))


_VISIBLE = re.compile(r"<(?:img|hr|input)\b|>[^<]*[^<\s>][^<]*<|^[^<]*[^<\s]")


def normalize(html: str) -> str:
    """HTML as a browser lays it out: runs of white space are one space (outside <pre>), white
    space next to block tags is none, and comments are nothing."""
    parts = _PRE.split(re.sub(r"<!--.*?-->", "", html, flags=re.S))
    for i in range(0, len(parts), 2):
        text = re.sub(r"<br\s*/?>", "<br>", re.sub(r"\s+", " ", parts[i]))
        parts[i] = _CHAIN.sub(_canonical_chain, _BLOCK_TAG.sub(r"\1", text))
    return "".join(parts).strip()


def round_trip(markdown: str) -> str:
    doc = Doc()
    with doc.transaction():
        import_markdown(markdown, doc)
    return export_markdown(doc)


def measure(markdown: str) -> tuple[int, int, list[tuple[str, str]]]:
    """(identical blocks, original blocks, [(original, exported) of those that differ])."""
    before = blocks(markdown)
    after = blocks(round_trip(markdown))
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    differ: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op != "equal":
            differ.append(("\n".join(before[a1:a2]), "\n".join(after[b1:b2])))
    return same, len(before), differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="blocks that differ to print, per file")
    args = parser.parse_args(argv)
    files = corpus()
    total_same = total = 0
    print(f"{'file':48} {'identical':>9} {'blocks':>7} {'share':>7}")
    for name, text in files:
        same, count, differ = measure(text)
        total_same += same
        total += count
        share = same / count if count else 1.0
        print(f"{name:48} {same:9} {count:7} {share:7.1%}")
        for original, exported in differ[: args.show]:
            print("    - " + original[:300].replace("\n", "\n      "))
            print("    + " + exported[:300].replace("\n", "\n      "))
    print(f"{'all ' + str(len(files)) + ' files':48} {total_same:9} {total:7} "
          f"{total_same / max(total, 1):7.1%}")
    return 0 if len(files) >= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
