"""Logs: tokens in request URLs are redacted, and a running server writes every line, uvicorn's
included, in one key=value format."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from pydantic import ValidationError

from server.config import Settings
from server.logs import RedactTokens
from tests.support.servers import QuireProcess
from tests.support.yclient import YClient


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


# a line as setup_logging formats it: time, level, logger, then the message
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} level=[A-Z]+ logger=[\w.]+ \S")


async def test_a_running_server_writes_every_line_in_one_format_with_tokens_redacted(tmp_path):
    """`quire serve` at level info: uvicorn's own lines (its start, each request, each socket
    accepted, its stop) come out in Quire's key=value format like Quire's, and neither the API
    token of a request nor that of a socket reaches them."""
    proc = QuireProcess(tmp_path, auth=True, env={"QUIRE_LOG_LEVEL": "info"})
    try:
        proc.make_account()
        await proc.astart()
        doc_id = await proc.anew_doc("Logged")
        async with httpx.AsyncClient(base_url=proc.http, timeout=10) as anyone:
            asked = await anyone.get(f"/api/docs/{doc_id}?token={proc.token}")
        client = await YClient(proc.ws(doc_id)).connect()
        await client.wait_synced()
        await client.close()
        proc.stop()
        lines = proc.log_text().splitlines()
    finally:
        proc.stop()
    assert lines and [line for line in lines if not LINE.match(line)] == []
    assert proc.token not in "\n".join(lines)
    access = [line for line in lines if "logger=uvicorn.access" in line]
    request = f'"GET /api/docs/{doc_id}?token=[redacted] HTTP/1.1" {asked.status_code}'
    assert any(request in line for line in access), access
    accepted = [line for line in lines if f'"WebSocket /ws/{doc_id}?' in line]
    assert len(accepted) == 1 and "token=[redacted]" in accepted[0], accepted
    assert accepted[0].endswith("[accepted]")
    assert any("logger=uvicorn.error Finished server process" in line for line in lines)


def test_log_levels_are_checked_by_name_in_any_case():
    assert Settings(log_level="WARNING").log_level == "warning"
    assert Settings(log_level=" Trace ").log_level == "trace"
    with pytest.raises(ValidationError, match="must be one of critical, error, warning, info, "
                                              "debug, trace, not 'loud'"):
        Settings(log_level="loud")


async def test_a_server_at_level_trace_starts_and_writes_uvicorns_trace_lines(tmp_path):
    """uvicorn's own level below debug: the server starts (Quire set the level up before
    uvicorn named it) and writes uvicorn's trace lines in Quire's format."""
    proc = QuireProcess(tmp_path, auth=False, env={"QUIRE_LOG_LEVEL": "TRACE"})
    try:
        await proc.astart()
        assert await proc.healthy()
        proc.stop()
        lines = proc.log_text().splitlines()
    finally:
        proc.stop()
    assert [line for line in lines if not LINE.match(line)] == []
    assert any("level=TRACE logger=uvicorn" in line for line in lines), lines[-20:]
