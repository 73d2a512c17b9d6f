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


def test_a_line_is_written_without_looking_up_its_caller_thread_or_process(monkeypatch):
    """No format Quire uses shows where a line was written, or by which thread or process:
    logging is told not to find out (each socket opened writes a line)."""
    import server.logs

    for name in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, name, getattr(logging, name))  # restored afterwards
    server.logs.setup_logging("info")
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("quire.test-logs")
    handler = Keep()
    logger.addHandler(handler)
    try:
        logger.warning("doc %s opened", "abc")
    finally:
        logger.removeHandler(handler)
    assert seen[0].getMessage() == "doc abc opened"
    assert seen[0].funcName == "(unknown function)" and seen[0].threadName is None
    assert seen[0].processName is None
