"""Logging: key=value lines on stderr, with secrets kept out of them."""

from __future__ import annotations

import logging
import re
import sys

from uvicorn.logging import TRACE_LOG_LEVEL

# what follows `token=` (a replacement without a group reference: ~1 µs a line, not ~2.6)
TOKEN = re.compile(r"(?<=token=)[^&\s\"']+", re.IGNORECASE)


class RedactTokens(logging.Filter):
    """Access logs print request URLs; share-link and API tokens travel in `?token=`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(TOKEN.sub("[redacted]", a) if isinstance(a, str) else a
                                for a in (record.args if isinstance(record.args, tuple)
                                          else (record.args,)))
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = TOKEN.sub("[redacted]", record.msg)
        return True


def setup_logging(level: str) -> None:
    # Quire's lines say neither where in the source they were written nor which thread or
    # process wrote them: logging need not look (the logging HOWTO's "Optimization"). Each
    # socket opened writes an access line; it was 5.4 % of the server's instructions per
    # document opened (bench/instructions.py), of which this saves about a tenth.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # uvicorn's "trace" (below debug) is a level before uvicorn registers it
    logging.addLevelName(TRACE_LOG_LEVEL, "TRACE")
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        stream=sys.stderr,
    )
    # websockets' per-socket lines (server/websocket_protocol.py): warnings and errors only
    logging.getLogger("websockets").setLevel(
        logging.DEBUG if level.lower() in ("debug", "trace") else logging.WARNING)


def redact_server_logs() -> None:
    """Attach the redaction to uvicorn's loggers (call after uvicorn configured logging)."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
