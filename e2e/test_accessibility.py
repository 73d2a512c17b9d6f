"""axe-core (WCAG 2.0/2.1 A and AA rules) on the pages people use: sign-in, the dashboard, the
editor with a co-author present and the comment margin open. No serious or critical violation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

AXE = Path(__file__).resolve().parents[1] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[str]:
    """Serious and critical axe-core violations on `page`, one line each."""
    if not AXE.exists():
        pytest.fail("frontend/node_modules/axe-core is missing (run `make install`)")
    page.evaluate(AXE.read_text())  # by the debugger protocol: the page's CSP does not apply
    found = page.evaluate("""async () => {
      const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
    }""")
    return found


def test_sign_in_page(quire, people):
    visitor = people("Vic", account=False)
    visitor.page.goto("/login")
    expect(visitor.page.get_by_role("button", name="Sign in")).to_be_visible()
    assert violations(visitor.page) == []


def test_dashboard_and_editor(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Accessible", editors=(bea,))
    ada.page.goto("/")
    expect(ada.page.get_by_role("heading", name="Documents")).to_be_visible()
    assert violations(ada.page) == []

    bea.open(doc_id)
    bea.editor.click()
    bea.page.keyboard.type("A co-author is here.")
    ada.open(doc_id)
    ada.expect_contains("co-author")
    ada.page.get_by_role("button", name=re.compile("^Comments")).click()
    assert violations(ada.page) == []


def test_editor_for_a_visitor_with_a_link(quire, people):
    """A visitor without an account has a name of their own to change (their avatar says so)."""
    ada, vic = people("Ada Kim"), people("Vera Lynn", account=False)  # initials AK, VL
    doc_id = ada.new_doc("By link")
    link = ada.share_link(doc_id, "editor")
    ada.open(doc_id)
    vic.open_link(link["url"])
    ada.expect_state("saved")
    assert violations(vic.page) == []
