"""Logging: key=value lines on stderr, with secrets kept out of them."""

from __future__ import annotations

import logging
import re
import sys

TOKEN = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)


class RedactTokens(logging.Filter):
    """Access logs print request URLs; share-link and API tokens travel in `?token=`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(TOKEN.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in (record.args if isinstance(record.args, tuple)
                                          else (record.args,)))
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = TOKEN.sub(r"\1[redacted]", record.msg)
        return True


def setup_logging(level: str) -> None:
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
