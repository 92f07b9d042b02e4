"""Campaigns from the staff group: /chiendich drafts one, shows it, sends only on a clear yes.

Sending itself is the campaign worker's job (`troly campaign send --watch`): confirming here
schedules the campaign for now, so a chat turn never waits on thousands of sends.
"""

from collections import Counter

from bot.actions import CAMPAIGN_STAFF
from bot.campaigns.control import campaign_replies, needs_approval, reply_windows
from bot.matcher import normalize
from bot.messages import Button, Reply
from handlers.routing import Replies, Turn
from storage import campaigns as store
from storage.models import Campaign, StaffMember
from storage.staff import STAFF

COMMAND = "/chiendich"
ACTION = CAMPAIGN_STAFF  # pressed in the staff group only
USAGE = (
    "Soạn chiến dịch: /chiendich rồi nội dung tin nhắn (có thể nhiều dòng).\n"
    "Tôi sẽ cho xem trước và chỉ gửi khi anh/chị bấm ✅ Gửi."
)
PREVIEW = "👀 Xem trước chiến dịch #{id}: người dân sẽ nhận đúng như tin dưới đây."
CONFIRM = "Sẽ gửi tới {total} người ({split}). Gửi ngay?"
SCHEDULED = "✅ Chiến dịch #{id} đã vào hàng gửi. Xem tiến độ: troly campaign status {id}"
CANCELLED = "✖ Đã huỷ chiến dịch #{id}."
TOO_LATE = "Chiến dịch #{id} không còn ở bản nháp: không đổi gì."
STAFF_ONLY = "Chỉ cán bộ Trung tâm mới gửi được chiến dịch."
SECOND_NEEDED = (
    "Chiến dịch #{id} gửi tới {total} người (trên {limit}): cần một cán bộ khác "
    "(không phải người soạn) bấm ✅ Gửi để duyệt."
)


async def draft(turn: Turn, member: StaffMember, body: str) -> Replies:
    if member.role != STAFF:
        return [Reply(STAFF_ONLY)]
    if not body.strip():
        return [Reply(USAGE)]
    campaign = Campaign(
        title=body.strip().splitlines()[0][:200],
        text=body.strip(),
        created_by=member.name,
        created_by_staff=member.id,
        created_at=turn.now,
    )
    # The turn's own transaction: on SQLite a second connection writing now would make this
    # turn's later writes fail and the whole turn be retried, drafting the campaign twice.
    await store.add_campaign(turn.session, campaign)
    members = await store.audience(turn.session, campaign, reply_windows(), turn.now, normalize)
    reach = Counter(m.channel for m in members if m.state == "pending")
    split = ", ".join(f"{channel}: {count}" for channel, count in sorted(reach.items())) or "0"
    ask = Reply(
        CONFIRM.format(total=sum(reach.values()), split=split),
        (
            Button("✅ Gửi", action=f"{ACTION}:send:{campaign.id}"),
            Button("✖ Huỷ", action=f"{ACTION}:cancel:{campaign.id}"),
        ),
    )
    shown = [Reply(PREVIEW.format(id=campaign.id)), *campaign_replies(campaign, turn.library)]
    return [*shown, ask]


async def decide(turn: Turn, member: StaffMember, action: str) -> Replies:
    """A staff member's yes or no; a volunteer's press or a forged payload changes nothing."""
    _, verb, campaign_id = [*action.split(":"), "", ""][:3]
    if member.role != STAFF or verb not in ("send", "cancel") or not campaign_id.isdigit():
        return [Reply(STAFF_ONLY)] if member.role != STAFF else []
    number = int(campaign_id)
    if verb == "send":
        waiting = await _second_approval(turn, member, number)
        if waiting:
            return [Reply(waiting)]
        moved = await store.change_state(
            turn.session, number, "scheduled", ("draft",), scheduled_at=turn.now
        )
        return [Reply((SCHEDULED if moved else TOO_LATE).format(id=number))]
    moved = await store.change_state(turn.session, number, "cancelled", ("draft",))
    return [Reply((CANCELLED if moved else TOO_LATE).format(id=number))]


async def _second_approval(turn: Turn, member: StaffMember, number: int) -> str | None:
    """Above CAMPAIGN_APPROVAL_OVER people the drafter's own ✅ does not count; another staff
    member's ✅ approves and sends. Returns what to say while it waits, else None."""
    campaign = await store.get_campaign(turn.session, number)
    if campaign is None or campaign.state != "draft":
        return None
    members = await store.audience(turn.session, campaign, reply_windows(), turn.now, normalize)
    total = sum(1 for m in members if m.state == "pending")
    if not needs_approval(campaign, total, turn.settings):
        return None
    if campaign.created_by_staff == member.id:
        limit = turn.settings.campaign_approval_over
        return SECOND_NEEDED.format(id=number, total=total, limit=limit)
    await store.change_state(
        turn.session, number, "draft", ("draft",),
        approved_by=member.name, approved_by_staff=member.id, approved_at=turn.now,
    )  # fmt: skip
    return None
