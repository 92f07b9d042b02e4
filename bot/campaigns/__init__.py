"""Campaigns: broadcasts to subscribers through an outbox that survives crashes.

control.py is the campaign's life (create, schedule, send, pause, ...), sender.py the loop that
empties the outbox at each channel's rate, ratelimit.py the token bucket; the tables and
queries are in storage/campaigns.py, outbox.py, reach.py and subscribers.py.
"""

from bot.campaigns.control import (
    CampaignError,
    alert_fields,
    approve,
    campaign_replies,
    cancel,
    create,
    needs_approval,
    pause,
    preview,
    reach,
    resume,
    run_due,
    schedule,
    send,
    start,
)
from bot.campaigns.sender import CampaignSender

__all__ = [
    "CampaignError",
    "CampaignSender",
    "alert_fields",
    "approve",
    "campaign_replies",
    "cancel",
    "create",
    "needs_approval",
    "pause",
    "preview",
    "reach",
    "resume",
    "run_due",
    "schedule",
    "send",
    "start",
]
