"""Webhook events -> Incoming: messages, quick replies, postbacks (Get Started) and referrals.

Meta batches events: one POST carries entries, each with a `messaging` list. Echoes of the
page's own messages and deliveries are not the person speaking and are dropped; a read
(`message_reads`: everything sent before its watermark was read) becomes a Read, not a turn.
"""

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.messages import Incoming, Read

CHANNEL = "messenger"
GET_STARTED = "GET_STARTED"
SENT_AT_SLACK = timedelta(minutes=1)
ATTACHMENT_KINDS = {
    "image": "photo",
    "audio": "voice",
    "video": "video",
    "file": "document",
    "location": "location",
    "fallback": "link",
}


def signature_ok(body: bytes, header: str, app_secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, in constant time."""
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


@dataclass(frozen=True)
class Event:
    event_id: str  # redeliveries of the same event collide on it in the inbox
    chat_id: str  # the page-scoped id of the person (PSID)
    body: str  # the event as received, for the inbox


def events(data: Any) -> Iterator[Event]:
    """The events of one webhook body that a person sent; anything malformed is skipped."""
    if not isinstance(data, dict) or data.get("object") != "page":
        return
    entries = data.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        messaging = entry.get("messaging") if isinstance(entry, dict) else None
        for event in messaging if isinstance(messaging, list) else []:
            found = _identify(event)
            if found is not None:
                yield Event(*found, json.dumps(event, ensure_ascii=False))


def _identify(event: Any) -> tuple[str, str] | None:
    if not isinstance(event, dict):
        return None
    sender = event.get("sender")
    psid = sender.get("id") if isinstance(sender, dict) else None
    if not isinstance(psid, str | int) or not str(psid).isdigit():
        return None
    psid, stamp = str(psid), str(event.get("timestamp", ""))
    message, postback = event.get("message"), event.get("postback")
    if isinstance(message, dict):
        if message.get("is_echo") or not isinstance(message.get("mid"), str):
            return None
        return message["mid"], psid
    if isinstance(postback, dict):
        return str(postback.get("mid") or f"postback:{psid}:{stamp}"), psid
    if isinstance(event.get("referral"), dict):
        return f"referral:{psid}:{stamp}", psid
    if _watermark(event) is not None:
        return f"read:{psid}:{event['read']['watermark']}", psid
    return None  # delivery, reaction...


def _watermark(event: dict[str, Any]) -> datetime | None:
    read = event.get("read")
    mark = read.get("watermark") if isinstance(read, dict) else None
    if not isinstance(mark, int) or isinstance(mark, bool) or mark <= 0:
        return None
    try:
        return datetime.fromtimestamp(mark / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def to_read(event: dict[str, Any]) -> Read | None:
    """A `message_reads` event as a Read (everything sent up to the watermark); None otherwise."""
    until = _watermark(event)
    if until is None or isinstance(event.get("message"), dict):
        return None
    # The watermark is usually Meta's own timestamp of the last message read, taken before the
    # Send API answered, while the outbox's sent_at is taken after: without slack a message
    # read at once would never count.
    return Read(CHANNEL, str(event["sender"]["id"]), at=until, until=until + SENT_AT_SLACK)


def to_incoming(event: dict[str, Any]) -> Incoming:
    psid = str(event["sender"]["id"])
    message, postback, referral = event.get("message"), event.get("postback"), event.get("referral")
    if isinstance(message, dict):
        quick = message.get("quick_reply")
        if isinstance(quick, dict) and isinstance(quick.get("payload"), str):
            return Incoming(CHANNEL, psid, action=quick["payload"])
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        return Incoming(
            CHANNEL, psid, text=text, attachment=_attachment(message) if not text else None
        )
    if isinstance(postback, dict):
        ref = _ref(postback.get("referral"))
        payload = postback.get("payload")
        if ref:
            return Incoming(CHANNEL, psid, referral=ref)
        if payload == GET_STARTED or not isinstance(payload, str):
            return Incoming(CHANNEL, psid, text="/start")
        return Incoming(CHANNEL, psid, action=payload)
    ref = _ref(referral)
    return Incoming(CHANNEL, psid, referral=ref) if ref else Incoming(CHANNEL, psid, text="/start")


def _ref(referral: Any) -> str | None:
    ref = referral.get("ref") if isinstance(referral, dict) else None
    return ref[:64] if isinstance(ref, str) and ref else None


def _attachment(message: dict[str, Any]) -> str | None:
    attachments = message.get("attachments")
    first = attachments[0] if isinstance(attachments, list) and attachments else None
    if not isinstance(first, dict):
        return None
    payload = first.get("payload")
    if first.get("type") == "image" and isinstance(payload, dict) and payload.get("sticker_id"):
        return "sticker"
    return ATTACHMENT_KINDS.get(str(first.get("type")), "document")
