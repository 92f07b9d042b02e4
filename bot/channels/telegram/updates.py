"""Telegram updates as Incoming: what a person did, or None for updates the bot ignores."""

from telegram import Chat, Message, MessageEntity, Update, User

from bot.messages import Incoming

CHANNEL = "telegram"
MAX_REFERRAL = 64  # the Bot API's own limit for a start payload

# Message fields that carry something other than text, and the kind the engine is told.
ATTACHMENT_KINDS = (
    ("sticker", "sticker"),
    ("animation", "gif"),  # before "document": a GIF message carries both
    ("voice", "voice"),
    ("audio", "audio"),
    ("video_note", "video_note"),
    ("video", "video"),
    ("photo", "photo"),
    ("document", "document"),
    ("venue", "location"),
    ("location", "location"),
    ("contact", "contact"),
    ("poll", "poll"),
    ("dice", "dice"),
    ("story", "story"),
)
GROUPS = (Chat.GROUP, Chat.SUPERGROUP)


def attachment_kind(message: Message) -> str | None:
    for field, kind in ATTACHMENT_KINDS:
        if getattr(message, field, None):
            return kind
    return None


def to_incoming(update: Update, bot_username: str, staff_chat_id: int | None) -> Incoming | None:
    """None means deliberately ignored: edits, channel posts, group chatter not for the bot."""
    if update.callback_query is not None:
        return _pressed(update, staff_chat_id)
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        # Edits would answer twice for one question; channel posts are not conversations.
        return None
    chat = message.chat
    if chat.type == Chat.PRIVATE:
        return _from_text(
            message, _text(message, bot_username, addressed_only=False),
            name=_name(message.from_user),
        )  # fmt: skip
    if chat.type not in GROUPS:
        return None
    if staff_chat_id is not None and chat.id == staff_chat_id:
        # Everything staff write goes in: the hand-off feature decides what a message means.
        reply_to = message.reply_to_message
        return _from_text(
            message,
            _text(message, bot_username, addressed_only=False),
            user_id=str(message.from_user.id),
            reply_to=str(reply_to.message_id) if reply_to else None,
        )
    text = _text(message, bot_username, addressed_only=True)
    if text is None:
        return None
    return _from_text(message, text, user_id=str(message.from_user.id))


def _from_text(message: Message, text: str | None, **who: str | None) -> Incoming | None:
    kind = attachment_kind(message)
    text = text or ""
    if not text and kind is None:
        return None  # service messages: someone joined, a pin, a timer change
    base = {"channel": CHANNEL, "chat_id": str(message.chat.id), **who}
    command, _, rest = text.partition(" ")
    if command == "/start" and rest.strip():
        return Incoming(**base, text="/start", referral=rest.strip()[:MAX_REFERRAL])
    return Incoming(**base, text=text, attachment=kind)


def _text(message: Message, bot_username: str, addressed_only: bool) -> str | None:
    """The text with '@bot' taken out of commands and mentions; in groups, None if not for us.

    A command addressed to another bot ('/start@OtherBot') is never ours.
    """
    if message.text is not None:
        raw, entities = message.text, message.parse_entities([MessageEntity.MENTION])
    else:
        raw, entities = (
            message.caption or "",
            message.parse_caption_entities([MessageEntity.MENTION]),
        )
    me = f"@{bot_username}".lower()
    is_command = raw.startswith("/")
    if is_command:
        word, _, rest = raw.partition(" ")
        command, _, target = word.partition("@")
        if target and f"@{target}".lower() != me:
            return None
        raw = f"{command} {rest}" if rest else command
    mentions = [value for value in entities.values() if value.lower() == me]
    for mention in mentions:
        raw = raw.replace(mention, " ")
    if mentions:
        raw = " ".join(raw.split())
    if addressed_only and not (is_command or mentions):
        return None
    return raw


def _pressed(update: Update, staff_chat_id: int | None) -> Incoming | None:
    query = update.callback_query
    if query is None or query.message is None or not query.data:
        return None  # inline-mode messages and games: TroLy sends neither
    chat = query.message.chat
    if chat.type in GROUPS:
        return Incoming(CHANNEL, str(chat.id), action=query.data, user_id=str(query.from_user.id))
    return Incoming(CHANNEL, str(chat.id), action=query.data, name=_name(query.from_user))


def _name(user: User) -> str | None:
    """The person's name as Telegram shows it; only a private chat's contact is that person."""
    return " ".join(filter(None, (user.first_name, user.last_name))) or None
