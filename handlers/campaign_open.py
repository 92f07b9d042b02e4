"""A guide button under a campaign message: opens the guide and counts the campaign's reach."""

from bot.actions import CAMPAIGN_OPEN
from handlers.guides import open_guide
from handlers.routing import Replies, Turn, router
from storage.reach import record_open
from storage.subscribers import contact_id_for


@router.on_action(CAMPAIGN_OPEN)
async def open_from_campaign(turn: Turn, campaign_id: str = "", guide_id: str = "") -> Replies:
    """Payload c:<campaign id>:<guide id>. The guide opens whatever the campaign's fate."""
    replies = open_guide(turn, guide_id)
    if campaign_id.isdigit() and guide_id in turn.library.guides:
        incoming = turn.incoming
        contact = await contact_id_for(turn.session, incoming.channel, incoming.chat_id, turn.now)
        await record_open(turn.session, int(campaign_id), contact, guide_id, turn.now)
    return replies
