"""Secrets never reach the logs: tokens in request URLs are redacted."""

from __future__ import annotations

import logging

from server.logs import RedactTokens


def formatted(msg: str, *args) -> str:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, msg, args, None)
    RedactTokens().filter(record)
    return record.getMessage()


def test_tokens_in_access_log_lines_are_redacted():
    http = formatted('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET",
                     "/api/docs?token=qp_abcDEF123_-&limit=5", "1.1", 200)
    assert "qp_abc" not in http and "token=[redacted]&limit=5" in http
    ws = formatted('%s - "WebSocket %s" [accepted]', "127.0.0.1:5",
                   "/ws/doc?saved=1&TOKEN=qs_zzz")
    assert "qs_zzz" not in ws and "[redacted]" in ws
    plain = formatted("doc %s opened", "abc")
    assert plain == "doc abc opened"
