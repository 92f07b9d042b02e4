"""SQLModel tables, one module per area. Alembic migrations in storage/migrations own the schema.

Everything is importable from `storage.models`, and importing it registers every table on
SQLModel.metadata (the migrations, the backup and `troly db copy` rely on that).
"""

from storage.models.base import UTCDateTime, utcnow
from storage.models.campaigns import Campaign, CampaignOpen, OutboxMessage, Subscription
from storage.models.console import (
    AuditEvent,
    CannedAnswer,
    ConsoleAccount,
    ConsoleSession,
    HandoffClaim,
    LoginFailure,
    TicketAssignee,
)
from storage.models.conversation import AnsweredMessage, Contact, Conversation, MessageEvent
from storage.models.delivery import InboxEvent, OAuthToken, PendingReply, WebChatMessage
from storage.models.support import (
    Handoff,
    SessionGuide,
    StaffMember,
    StaffThread,
    SupportLogEntry,
    SupportSession,
    Ticket,
    TicketCounter,
)
from storage.models.surveys import SurveyAnswer, SurveyResponse, SurveyRound

__all__ = [
    "AnsweredMessage",
    "AuditEvent",
    "Campaign",
    "CampaignOpen",
    "CannedAnswer",
    "ConsoleAccount",
    "ConsoleSession",
    "Contact",
    "Conversation",
    "Handoff",
    "HandoffClaim",
    "InboxEvent",
    "LoginFailure",
    "MessageEvent",
    "OAuthToken",
    "OutboxMessage",
    "PendingReply",
    "SessionGuide",
    "StaffMember",
    "StaffThread",
    "Subscription",
    "SupportLogEntry",
    "SupportSession",
    "SurveyAnswer",
    "SurveyResponse",
    "SurveyRound",
    "Ticket",
    "TicketAssignee",
    "TicketCounter",
    "UTCDateTime",
    "WebChatMessage",
    "utcnow",
]
