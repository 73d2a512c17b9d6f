"""Three people editing one document at random for a while, as people do: words, Enter,
Backspace, moving with the arrow keys, bold on a selection, undo. Every change must reach
everyone (the editors converge, with the server's copy) and no browser may log an error — in
particular no "Caught error while handling a Yjs update" (an update a view failed to apply is
one a person may not see). The people fixture fails the test on any console error."""

from __future__ import annotations

import os
import random
import time

from e2e.helpers import converged, eventually
from e2e.normalize import same_document

SECONDS = float(os.environ.get("QUIRE_SOAK_SECONDS", "40"))
WORDS = ["edge", "nodes", "serve", "traffic", "cache", "latency", "we", "the", "of", "fast"]


def act(person, rng: random.Random) -> None:
    keys = person.page.keyboard
    roll = rng.random()
    if roll < 0.40:
        keys.type(rng.choice(WORDS) + " ", delay=5)
    elif roll < 0.50:
        keys.press("Enter")
    elif roll < 0.62:
        for _ in range(rng.randint(1, 4)):
            keys.press("Backspace")
    elif roll < 0.77:
        keys.press(rng.choice(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"]))
    elif roll < 0.90:
        for _ in range(rng.randint(1, 6)):
            keys.press("Shift+ArrowLeft")
        keys.press("Control+b")
        keys.press("ArrowRight")
    else:
        keys.press("Control+z")


def test_three_people_editing_at_random_converge_without_errors(quire, people):
    ada, bea, cy = people("Ada"), people("Bea"), people("Cy")
    doc_id = ada.new_doc("Soak", editors=(bea, cy))
    for person in (ada, bea, cy):
        person.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Our edge nodes serve most traffic.", delay=5)
    for person in (bea, cy):
        person.expect_contains("most traffic.")
        person.editor.click()
    rng = random.Random(int(os.environ.get("QUIRE_SOAK_SEED", "20261205")))
    deadline = time.monotonic() + SECONDS
    rounds = 0
    while time.monotonic() < deadline:
        for person in (ada, bea, cy):
            act(person, rng)
        rounds += 1
    doc = converged(ada, bea, cy)
    for person in (ada, bea, cy):
        person.expect_state("saved")
    server = eventually(lambda: (lambda c: c if same_document(doc, c["json"]) else None)(
        ada.content(doc_id)), message="the server's copy equals the editors'")
    assert server
    assert rounds > 20, rounds
