"""``python -m bench.gate``: what the gate (crdt/gate.py) costs, in process.

On a document of ``--chars`` characters (100,000 by default: paragraphs of ~60 words typed by
several people, with comment threads), measures per update:

- an editor's keystroke: the gate's check before applying, and learning the integrated update;
- a commenter's comment as the browser sends it (thread data, then y-tiptap's mark): check;
- a commenter's keystroke in Suggesting mode: the gate's check and the suggestion check on the
  room's copy of the document (issue 15);
- for scale: what a whole-document copy costs (how commenters were checked before the gate);

and, once: placing the stored state when the document opens (``Gate.load``) and the memory
the gate holds for the document. Prints a table and writes ``bench/results/gate-latest.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import uuid
from pathlib import Path

from pycrdt import Array, Doc, Map, XmlElement, XmlFragment, XmlText

from bench import report
from crdt.comments import mark_key
from crdt.gate import Decision, Gate
from crdt.suggestion_check import SuggestionCheck
from crdt.suggestions import INSERT

WORDS = ("the quick brown fox jumps over a lazy dog while seven clever editors write "
         "tiered caching notes for edge nodes").split()
PERSON = {"id": "u-commenter", "name": "Cam", "username": "cam", "color": "#225588"}


def build(chars: int, typists: int = 4) -> Doc:
    """A document of about `chars` characters, typed a word at a time by `typists` peers."""
    peers = [Doc(client_id=100 + i) for i in range(typists)]
    main = Doc(client_id=1)
    fragment = main.get("default", type=XmlFragment)
    total, n = 0, 0
    while total < chars:
        with main.transaction():
            fragment.children.append(XmlElement("paragraph", {}, [XmlText("")]))
        for _ in range(60):
            word = WORDS[n % len(WORDS)] + " "
            n += 1
            peer = peers[n % typists]
            peer.apply_update(main.get_update(peer.get_state()))
            ptext = peer.get("default", type=XmlFragment).children[
                len(fragment.children) - 1].children[0]
            before = peer.get_state()
            ptext.insert(len(ptext), word)
            main.apply_update(peer.get_update(before))
            total += len(word)
    comments = main.get("comments", type=Map)
    for i in range(min(20, len(fragment.children))):
        thread_id = str(uuid.uuid4())
        with main.transaction():
            comments[thread_id] = Map({"id": thread_id, "author": dict(PERSON, id=f"u{i}"),
                                       "messages": Array([Map({"id": "m", "body": "b"})])})
        fragment.children[i].children[0].format(0, 5, {mark_key(thread_id): {
            "threadId": thread_id}})
    return main


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1e6)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {"p50_us": round(statistics.median(samples), 1),
            "p99_us": round(samples[int(len(samples) * 0.99) - 1], 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.gate", description=__doc__)
    parser.add_argument("--chars", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)

    doc = build(args.chars)
    state = doc.get_update()
    gate = Gate()
    started = time.perf_counter()
    gate.load(state)
    load_ms = (time.perf_counter() - started) * 1000
    doc.observe(lambda event: gate.learn(event.update))
    tracemalloc.start()
    probe = Gate()
    probe.load(state)
    gate_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del probe

    # an editor typing at the end of a paragraph in the middle of the document
    editor = Doc(client_id=7)
    editor.apply_update(state)
    text = editor.get("default", type=XmlFragment).children[len(
        editor.get("default", type=XmlFragment).children) // 2].children[0]
    keystrokes = []
    for i in range(args.repeat):
        before = editor.get_state()
        text.insert(len(text), "abcdefghij"[i % 10])
        keystrokes.append(editor.get_update(before))
    check_us, learn_us = [], []
    for update in keystrokes:
        started = time.perf_counter()
        checked = gate.check(update, role="editor", who="u-editor")
        check_us.append((time.perf_counter() - started) * 1e6)
        assert checked.decision is Decision.APPLY
        started = time.perf_counter()
        gate.learn(update)
        learn_us.append((time.perf_counter() - started) * 1e6)
        # (applied to nothing: the gate alone is measured; learning keeps it current)

    # a commenter's comment: thread data, then the mark (two updates, as the browser sends)
    commenter = Doc(client_id=8)
    commenter.apply_update(doc.get_update())
    cfrag = commenter.get("default", type=XmlFragment)
    comment_us = []
    for i in range(min(args.repeat, 200)):
        thread_id = str(uuid.uuid4())
        for step in ("data", "mark"):
            before = commenter.get_state()
            if step == "data":
                with commenter.transaction():
                    commenter.get("comments", type=Map)[thread_id] = Map({
                        "id": thread_id, "createdAt": 1.0, "author": PERSON, "quote": "q",
                        "resolved": False, "resolvedAt": None, "resolvedBy": None,
                        "messages": Array([Map({"id": "m", "author": PERSON, "body": "b",
                                                "createdAt": 1.0, "editedAt": None,
                                                "deleted": False})])})
            else:
                cfrag.children[(30 + i) % len(cfrag.children)].children[0].format(
                    10, 20, {mark_key(thread_id): {"threadId": thread_id}})
            update = commenter.get_update(before)
            started = time.perf_counter()
            checked = gate.check(update, role="commenter", who=PERSON["id"])
            comment_us.append((time.perf_counter() - started) * 1e6)
            assert checked.decision is Decision.APPLY, checked.reason
            doc.apply_update(update)  # integrated, so the next one is judged against it

    # a commenter suggesting: each keystroke extends their pending insertion (issue 15); the
    # gate's check, then the suggestion check on the room's copy (crdt/suggestion_check.py),
    # then applying it, as the room does
    room_doc = Doc()
    room_doc.apply_update(doc.get_update())
    room_gate = Gate()
    room_gate.load(room_doc.get_update())
    check = SuggestionCheck()
    room_doc.observe(lambda event: (room_gate.learn(event.update), check.follow(event.update)))
    suggester = Doc(client_id=9)
    suggester.apply_update(room_doc.get_update())
    sfrag = suggester.get("default", type=XmlFragment)
    stext = sfrag.children[len(sfrag.children) // 3].children[0]
    mark = {INSERT: {"id": "s-bench", "author": PERSON["id"], "at": 1}}
    check.check(room_doc, b"\x00\x00", PERSON["id"])  # the copy is made once, at the first
    suggest_gate_us, suggest_check_us = [], []
    for i in range(min(args.repeat, 300)):
        before = suggester.get_state()
        stext.insert(12 + i, "abcdefghij"[i % 10], mark)
        update = suggester.get_update(before)
        started = time.perf_counter()
        checked = room_gate.check(update, role="commenter", who=PERSON["id"])
        suggest_gate_us.append((time.perf_counter() - started) * 1e6)
        assert checked.decision is Decision.APPLY and checked.suggest, checked.reason
        started = time.perf_counter()
        reason = check.check(room_doc, checked.update, PERSON["id"])
        suggest_check_us.append((time.perf_counter() - started) * 1e6)
        assert reason is None, reason
        room_doc.apply_update(checked.update)

    copy_us = timed(lambda: Doc().apply_update(doc.get_update()), 20)
    result = {
        "chars": args.chars,
        "state_bytes": len(state),
        "index_runs": len(gate.index),
        "load_ms": round(load_ms, 1),
        "gate_kib": round(gate_bytes / 1024, 1),
        "editor_keystroke_check": summary(check_us),
        "editor_keystroke_learn": summary(learn_us),
        "commenter_update_check": summary(comment_us),
        "suggestion_keystroke_gate": summary(suggest_gate_us),
        "suggestion_keystroke_check": summary(suggest_check_us),
        "whole_document_copy": summary(copy_us),
    }
    print(f"gate on a {args.chars:,}-character document ({len(state):,} bytes stored, "
          f"{len(gate.index):,} runs indexed)")
    print(f"  placing the stored state on open: {result['load_ms']} ms; "
          f"memory held by the gate: {result['gate_kib']} KiB")
    for name in ("editor_keystroke_check", "editor_keystroke_learn", "commenter_update_check",
                 "suggestion_keystroke_gate", "suggestion_keystroke_check", "whole_document_copy"):
        figures = result[name]
        print(f"  {name:<26} p50 {figures['p50_us']:>9} µs   p99 {figures['p99_us']:>9} µs")
    report.write_latest(args.out, "gate", result)
    return result


if __name__ == "__main__":
    main()
