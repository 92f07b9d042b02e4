"""Logging an operator can read (text, the default) or ship (`LOG_FORMAT=json`, one object a line).

No personal data goes to the log: a chat is named by `chat_ref`, a short keyed hash, so an
operator can follow one conversation through the log without learning who it is.
"""

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields a log call may pass in `extra=` that the JSON lines carry as their own keys.
CONTEXT_FIELDS = ("channel", "chat", "duration_ms", "handler", "outcome")
_ref_key = b"troly"
# Libraries whose debug lines carry SQL parameters or request bodies: personal data.
QUIET_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy", "httpx", "httpcore", "telegram")


def chat_ref(channel: str, chat_id: object) -> str:
    """`telegram:5f3a9c1e`: stable within a deployment, useless to anyone without its key."""
    digest = hmac.new(_ref_key, f"{channel}:{chat_id}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}:{digest[:8]}"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def setup_logging(level: str, log_format: str, key: str) -> None:
    """Once per process, before anything logs."""
    global _ref_key
    _ref_key = key.encode()
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
