"""Redaction of secrets people type (ID numbers, OTPs, card numbers, passwords) before storage.

What must never be kept: 12-digit ID numbers (CCCD / căn cước), one-time codes, bank card
numbers and passwords. Everything else a citizen needs to be helped with stays readable:
dossier codes such as "H12.34-251120-0001", years, phone numbers, amounts.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.messages import Incoming

if TYPE_CHECKING:
    from bot.turn import Turn

REDACTED = "[***]"

# A number standing alone: not glued to letters, dots, dashes or slashes (dossier codes, dates,
# amounts written 1.000.000 all have those neighbours).
_ALONE_BEFORE = r"(?<![\w.,/-])"
_ALONE_AFTER = r"(?![\w/-]|[.,]\d)"
# Digits in groups separated by single spaces or dashes, as people copy a card or an ID.
_GROUPED_DIGITS = re.compile(_ALONE_BEFORE + r"\d(?:[ -]?\d){11,18}" + _ALONE_AFTER)
# "mã OTP là 123456", "otp: 4821", "ma xac thuc 123456", "123456 là mã OTP".
_OTP_KINDS = r"otp|pin|x[áa]c\s+(?:th[ựu]c|nh[ậa]n)|k[íi]ch\s+ho[ạa]t|code"
_OTP_WORD = r"(?:otp|m[ãa](?:\s+(?:" + _OTP_KINDS + r"))?|code|pin)"
_NOT_A_SECRET_CODE = r"(?!\s+(?:h[ồo]\s+s[ơo]|b[ưu]u|s[ốo]\s+thu[ếe]|v[ạa]ch|gi[ảa]m\s+gi[áa]))"
_OTP_AFTER = re.compile(
    r"\b"
    + _OTP_WORD
    + r"\b"
    + _NOT_A_SECRET_CODE
    + r"[^\d\n.?!]{0,25}?"
    + _ALONE_BEFORE
    + r"(\d{4,8})"
    + _ALONE_AFTER,
    re.IGNORECASE,
)
_OTP_BEFORE = re.compile(
    _ALONE_BEFORE + r"(\d{4,8})" + _ALONE_AFTER + r"[^\d\n.?!]{0,12}?\b" + _OTP_WORD + r"\b",
    re.IGNORECASE,
)
# "mật khẩu là Abc@123", "mk: 123456", "pass 9xYz!"; "quên mật khẩu vneid" is a question.
_PASSWORD_WORD = r"(?:m[ậa]t\s+kh[ẩa]u|passcode|password|passwd|pass|mk|pw)"
_PASSWORD = re.compile(
    r"\b" + _PASSWORD_WORD + r"\b"
    r"(?:\s+(?:c[ủu]a\s+)?(?:t[ôo]i|m[ìi]nh|em|anh|ch[ịi]|con))?"
    r"(?:(?P<said>\s*(?:[:=]|\bl[àa]\b|\bm[ớo]i\s+l[àa]\b)\s*)|\s+)"
    r"(?P<secret>\S+)",
    re.IGNORECASE,
)
_LOOKS_LIKE_A_PASSWORD = re.compile(r"\d|[^\w\s]")


@dataclass(frozen=True)
class Redaction:
    text: str
    kinds: frozenset[str]  # "id_number", "card", "otp", "password"


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def redact(text: str) -> Redaction:
    """The text with every secret replaced by REDACTED, and which kinds were found."""
    kinds: set[str] = set()

    def long_number(found: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", found.group())
        if len(digits) == 12:
            kinds.add("id_number")
            return REDACTED
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            kinds.add("card")
            return REDACTED
        return found.group()

    def code(found: re.Match[str]) -> str:
        kinds.add("otp")
        whole, offset = found.group(), found.start()
        return whole[: found.start(1) - offset] + REDACTED + whole[found.end(1) - offset :]

    def password(found: re.Match[str]) -> str:
        secret = found.group("secret")
        if secret == REDACTED or not (found.group("said") or _LOOKS_LIKE_A_PASSWORD.search(secret)):
            return found.group()
        kinds.add("password")
        return found.group()[: found.start("secret") - found.start()] + REDACTED

    text = _GROUPED_DIGITS.sub(long_number, text)
    text = _OTP_AFTER.sub(code, text)
    text = _OTP_BEFORE.sub(code, text)
    text = _PASSWORD.sub(password, text)
    return Redaction(text, frozenset(kinds))


def screen(incoming: Incoming) -> tuple[Incoming, frozenset[str]]:
    """The incoming message as it may be stored and handled, and what was taken out."""
    if not incoming.text:
        return incoming, frozenset()
    result = redact(incoming.text)
    if not result.kinds:
        return incoming, frozenset()
    return replace(incoming, text=result.text), result.kinds


def pseudonym(key: str, channel: str, chat_id: str) -> str:
    """A stable reference to a contact that does not reveal their chat id."""
    digest = hmac.new(key.encode(), f"{channel}:{chat_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


ERASED = "erased"  # the outcome a turn notes when it erased the person's own data


def erased(turn: "Turn") -> bool:
    """True when this turn erased the person: the engine then writes nothing back."""
    return turn.log.get("outcome") == ERASED
