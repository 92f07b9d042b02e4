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
# Below WARNING only our own loggers speak: libraries' debug and info lines carry SQL
# parameters, request bodies and URLs with tokens or session ids in them.
OUR_LOGGERS = ("bot", "handlers", "storage", "alembic", "troly")


def chat_ref(channel: str, chat_id: object) -> str:
    """`web:5f3a9c1e`: stable within a deployment, useless to anyone without its key."""
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
    handler.addFilter(_ours_or_serious)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def _ours_or_serious(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name.split(".")[0] in OUR_LOGGERS
