"""What the campaign pages need besides the views: the compose form read and checked, the
uploaded image kept, each channel's preview through the channel's own renderer, local times."""

import io
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.web_request import FileField

from bot.channels.base import Channel, Shown, all_channels, get_channel
from bot.library import Library
from bot.messages import Reply
from storage.models import Campaign

MAX_IMAGE = 5 * 1024 * 1024
IMAGE_TYPES = {"JPEG": "jpg", "PNG": "png"}
MAX_TEXT = 4000  # the longest message staff can compose (every channel splits beyond its own)
DEFAULT_DAYS = 30


@dataclass
class Compose:
    """The compose form's values, as typed (shown again when something is wrong)."""

    title: str = ""
    text: str = ""
    guide: str = ""
    channels: list[str] = field(default_factory=list)  # none: every channel
    tags: str = ""
    villages: list[str] = field(default_factory=list)
    opened_guide: str = ""
    opened_days: str = str(DEFAULT_DAYS)
    alert_id: str = ""
    image: str | None = None
    errors: list[str] = field(default_factory=list)

    def create_fields(self) -> dict[str, Any]:
        """Keyword arguments of bot.campaigns.create."""
        days = int(self.opened_days) if self.opened_days.isdigit() else DEFAULT_DAYS
        return {
            "title": self.title,
            "text": self.text,
            "image": self.image,
            "guide_ids": [self.guide] if self.guide else [],
            "channel": ",".join(self.channels) or None,
            "tags": [t.strip() for t in self.tags.split(",") if t.strip()],
            "villages": self.villages,
            "opened_guide": self.opened_guide or None,
            "opened_days": days,
            "alert_id": self.alert_id or None,
        }


def read_form(data: Any, library: Library, channels: list[str]) -> Compose:
    """The posted form (multidict) as a Compose, with what is wrong in Vietnamese."""

    def one(name: str) -> str:
        value = data.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    villages = [str(v) for v in library.profile.get("villages") or []]
    compose = Compose(
        title=one("title")[:200],
        text=one("text"),
        guide=one("guide"),
        channels=[c for c in data.getall("channel", []) if isinstance(c, str) and c],
        tags=one("tags")[:300],
        villages=[v for v in data.getall("village", []) if v in villages],
        opened_guide=one("opened_guide"),
        opened_days=one("opened_days") or str(DEFAULT_DAYS),
        alert_id=one("alert_id") if one("alert_id") in library.alerts else "",
    )
    if not compose.text:
        compose.errors.append("Chưa có nội dung tin nhắn.")
    if len(compose.text) > MAX_TEXT:
        compose.errors.append(f"Nội dung dài quá {MAX_TEXT} ký tự.")
    for guide in (compose.guide, compose.opened_guide):
        if guide and guide not in library.guides:
            compose.errors.append("Hướng dẫn đã chọn không còn trong thư viện.")
    if any(c not in channels for c in compose.channels):
        compose.errors.append("Kênh đã chọn không gửi được chiến dịch.")
    if not compose.opened_days.isdigit() or not 1 <= int(compose.opened_days) <= 365:
        compose.errors.append("Số ngày phải từ 1 đến 365.")
    return compose


def from_campaign(campaign: Campaign) -> Compose:
    """A copy of an earlier campaign's form, to write a new one from it."""
    return Compose(
        title=campaign.title,
        text=campaign.text,
        guide=(campaign.guide_ids or [""])[0],
        channels=(campaign.audience_channel or "").split(",") if campaign.audience_channel else [],
        tags=", ".join(campaign.audience_tags or []),
        villages=list(campaign.audience_villages or []),
        opened_guide=campaign.audience_guide or "",
        opened_days=str(campaign.audience_guide_days or DEFAULT_DAYS),
        alert_id=campaign.alert_id or "",
        image=campaign.image,
    )


def save_image(upload: Any, folder: Path) -> tuple[str | None, str | None]:
    """(path of the kept image, None) or (None, what is wrong); no upload: (None, None).
    Only a real JPEG or PNG is kept, under a random name."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(upload, FileField) or not upload.filename:
        return None, None
    body = upload.file.read(MAX_IMAGE + 1)
    if len(body) > MAX_IMAGE:
        return None, "Ảnh lớn quá 5 MB."
    try:
        with Image.open(io.BytesIO(body)) as image:
            kind = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        return None, "Tệp ảnh không đọc được (chỉ nhận JPG hoặc PNG)."
    if kind not in IMAGE_TYPES:
        return None, "Chỉ nhận ảnh JPG hoặc PNG."
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_urlsafe(12)}.{IMAGE_TYPES[kind]}"
    path.write_bytes(body)
    return str(path.resolve()), None


@dataclass(frozen=True)
class ChannelPreview:
    channel: Channel
    bubbles: list[Shown]
    recipients: int | None  # None: this channel takes no campaigns
    error: str | None = None


def previews(
    replies: list[Reply], shown: list[str], counts: dict[str, int], campaign_channels: list[str]
) -> list[ChannelPreview]:
    """Each channel's messages as its own renderer makes them; a reply a platform would refuse
    is said plainly instead of being found out while sending."""
    found = []
    for name in shown:
        channel = get_channel(name)
        if channel is None:
            continue
        recipients = counts.get(name, 0) if name in campaign_channels else None
        try:
            found.append(ChannelPreview(channel, channel.show(replies), recipients))
        except ValueError as error:
            found.append(ChannelPreview(channel, [], recipients, str(error)))
    return found


def counters(names: list[str], extra: int) -> list[dict[str, Any]]:
    """The length counters of the compose form: each channel's limit and how it counts."""
    wanted = [c for c in all_channels() if c.name in names]
    return [
        {"label": c.label, "limit": c.limits.text_chars, "utf16": c.counts_utf16, "extra": extra}
        for c in wanted
    ]


def local_input(moment: datetime | None, timezone: str) -> str:
    """A datetime-local input's value in the centre's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def parse_local(value: str, timezone: str) -> datetime | None:
    """A datetime-local value typed in the centre's time zone, as UTC; None if not a time."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)
