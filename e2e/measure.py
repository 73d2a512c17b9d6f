"""Measure the editor in a real browser against a real server (not a test; run by hand):

    .venv/bin/python -m e2e.measure [--keystrokes 100]

- time to interactive: navigation start -> editor ready, and -> first sync with the server
  (performance marks 'quire:editor-ready' and 'quire:first-sync' set by the bundle);
- keystroke to remote render: Ada presses a key (keydown timestamp in her page) until Bea's
  editor DOM shows it (timestamp of her editor's 'update' event, after the view rendered); both pages read the same clock
  (performance.timeOrigin + performance.now()), one keystroke at a time;
- leaving: a third person closes their browser context until their caret is gone for Ada.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from e2e.conftest import CHROMIUM, CHROMIUM_ARGS, QuireServer

WATCH = """() => {
  window.__seen = [];
  const editor = window.quire.editor;
  let last = editor.state.doc.textContent.length;
  // 'update' fires after the view rendered a changed document (remote ones included)
  editor.on('update', () => {
    const len = editor.state.doc.textContent.length;
    if (len !== last) { last = len; window.__seen.push(performance.timeOrigin + performance.now()); }
  });
}"""
KEYDOWNS = """() => {
  window.__down = [];
  document.addEventListener('keydown', () => window.__down.push(performance.timeOrigin + performance.now()), true);
}"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def person(browser, name: str, color: str, service_workers: str = "allow"):
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  service_workers=service_workers)
    identity = json.dumps({"name": name, "color": color, "chosen": True})
    context.add_init_script(f"localStorage.setItem('quire.user', {json.dumps(identity)})")
    return context.new_page()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keystrokes", type=int, default=100)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--no-service-worker", action="store_true",
                        help="load pages without the offline service worker (for comparison)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        server = QuireServer(Path(tmp), auth=False)  # a private instance: no accounts to set up
        server.start()
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            doc_id = server.new_doc("Measurements")
            sw = "block" if args.no_service_worker else "allow"
            ada, bea = person(browser, "Ada", "#1d4ed8", sw), person(browser, "Bea", "#b91c1c", sw)

            ready, synced = [], []
            for _ in range(args.loads):
                ada.goto(f"{server.url}/d/{doc_id}")
                ada.wait_for_function("() => performance.getEntriesByName('quire:first-sync').length > 0")
                marks = ada.evaluate("""() => ({
                  ready: performance.getEntriesByName('quire:editor-ready')[0].startTime,
                  synced: performance.getEntriesByName('quire:first-sync')[0].startTime })""")
                ready.append(marks["ready"])
                synced.append(marks["synced"])
            print(f"time to editor ready: median {statistics.median(ready):.0f} ms "
                  f"(min {min(ready):.0f}, max {max(ready):.0f}) over {args.loads} loads")
            print(f"time to first sync:   median {statistics.median(synced):.0f} ms "
                  f"(min {min(synced):.0f}, max {max(synced):.0f})")

            bea.goto(f"{server.url}/d/{doc_id}")
            bea.locator(".ProseMirror").wait_for()
            bea.wait_for_function("() => performance.getEntriesByName('quire:first-sync').length > 0")
            ada.locator(".ProseMirror").click()
            ada.evaluate(KEYDOWNS)
            bea.evaluate(WATCH)
            for i in range(args.keystrokes):
                ada.keyboard.press("abcdefghij"[i % 10])
                bea.wait_for_function("n => window.__seen.length >= n", arg=i + 1)
            down = ada.evaluate("window.__down")
            seen = bea.evaluate("window.__seen")
            latencies = [s - d for d, s in zip(down, seen, strict=True)]
            print(f"keystroke -> remote DOM: median {statistics.median(latencies):.1f} ms, "
                  f"p95 {percentile(latencies, 95):.1f} ms, max {max(latencies):.1f} ms "
                  f"over {len(latencies)} keystrokes")

            gone = []
            for _ in range(5):
                other = person(browser, "Cleo", "#15803d")
                other.goto(f"{server.url}/d/{doc_id}")
                other.locator(".ProseMirror").click()
                ada.wait_for_function(
                    "() => !!document.querySelector('.collaboration-carets__caret[data-name=\"Cleo\"]')")
                started = time.monotonic()
                other.context.close()
                ada.wait_for_function(
                    "() => !document.querySelector('.collaboration-carets__caret[data-name=\"Cleo\"]')",
                    polling=5)
                gone.append((time.monotonic() - started) * 1000)
            print(f"leave -> caret gone for others: median {statistics.median(gone):.0f} ms, "
                  f"max {max(gone):.0f} ms over {len(gone)} departures (context close included)")
        finally:
            browser.close()
            server.stop()


if __name__ == "__main__":
    main()
