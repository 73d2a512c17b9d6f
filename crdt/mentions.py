"""@mentions in comment messages: `@username`, as typed in a message's plain-text body.

The body is what the author wrote; the server reads the mentions from it (never from a list a
browser sends), resolves each username to an account and notifies only people who can read the
document. Usernames are unique and never change, so the account a mention names is fixed.
"""

from __future__ import annotations

import re

# a username (server/security.py: 2–40 of A-Z a-z 0-9 _ . -) after an "@" that does not follow
# a word character (so "ada@example.com" mentions nobody); a trailing "." ends a sentence
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_][A-Za-z0-9_.-]{1,39})(?![A-Za-z0-9_-])")
MAX_MENTIONS = 20  # per message: more are read as text, not as mentions


def mentioned_usernames(body: str) -> list[str]:
    """The usernames `body` mentions, lower-cased, each once, in order, at most MAX_MENTIONS."""
    found: dict[str, None] = {}
    for match in _MENTION.finditer(body):
        name = match.group(1).rstrip(".").lower()
        if len(name) >= 2:
            found.setdefault(name)
            if len(found) >= MAX_MENTIONS:
                break
    return list(found)
