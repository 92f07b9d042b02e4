"""Subscribers: opt out ("dừng", /dunglai), opt back in (/dangky), optional village/topic tags.

Everybody who talked to the bot receives campaigns unless they opted out; the start message
says so in one line (`subscribed_notice`, used by handlers/menu.py).
"""

from bot import actions
from bot.messages import Button, Reply
from handlers.routing import Replies, Turn, router
from storage.conversations import NEVER
from storage.subscribers import contact_id_for, is_opted_out, set_opted_out, toggle_tag

# Plain "dừng" is matched with its tone marks: without them it reads as "đúng" (right, yes),
# and commands are compared without marks, so "dừng" and "/dung" are not commands.
STOP_PATTERN = r"(?i)^\s*(dừng|dừng lại|stop)\s*[.!]*\s*$"


async def _contact_id(turn: Turn) -> int:
    incoming = turn.incoming
    return await contact_id_for(turn.session, incoming.channel, incoming.chat_id, turn.now)


async def subscribed_notice(turn: Turn) -> str | None:
    """The one line for the first conversation's start message; None later or if opted out."""
    if turn.state.updated_at != NEVER:
        return None
    if await is_opted_out(turn.session, await _contact_id(turn)):
        return None
    return turn.text("subscribed_notice")


@router.on_command("/dunglai", "dừng lại", "huỷ đăng ký", "hủy đăng ký", "ngừng nhận tin", "/stop")
async def opt_out(turn: Turn, *_: str) -> Replies:
    changed = await set_opted_out(turn.session, await _contact_id(turn), True, turn.now)
    turn.note("subscription", outcome="opt_out" if changed else "unchanged")
    text = turn.text("unsubscribed" if changed else "already_unsubscribed")
    return [
        Reply(
            text,
            (
                turn.button("btn_subscribe", f"{actions.SUBSCRIBE}:on"),
                turn.button("btn_menu", actions.MENU),
            ),
        )
    ]


router.on_pattern(STOP_PATTERN)(opt_out)


@router.on_command("/dangky", "đăng ký nhận tin", "đăng ký lại", "nhận tin lại")
async def opt_in(turn: Turn, *_: str) -> Replies:
    changed = await set_opted_out(turn.session, await _contact_id(turn), False, turn.now)
    turn.note("subscription", outcome="opt_in" if changed else "unchanged")
    buttons = (turn.button("btn_tags", actions.TAGS), turn.button("btn_menu", actions.MENU))
    return [Reply(turn.text("resubscribed"), buttons)]


@router.on_action(actions.SUBSCRIBE)
async def subscription_button(turn: Turn, choice: str = "") -> Replies:
    """`sub:off` under campaign messages, `sub:on` under the opt-out answer."""
    if choice == "off":
        return await opt_out(turn)
    return await opt_in(turn)


@router.on_action(actions.TAGS)
async def choose_tags(turn: Turn, kind: str = "", index: str = "") -> Replies:
    """tag -> village or topic -> one of the list (by position, to keep payloads short)."""
    villages = [str(v) for v in turn.library.profile.get("villages") or []]
    topics = list(turn.library.topics.values())
    menu = turn.button("btn_menu", actions.MENU)
    if kind == "v" and index.isdigit() and int(index) < len(villages):
        return await _toggle(turn, villages[int(index)], villages[int(index)])
    if kind == "t" and index.isdigit() and int(index) < len(topics):
        return await _toggle(turn, topics[int(index)].id, topics[int(index)].title)
    if kind == "v":
        buttons = [Button(v, action=f"{actions.TAGS}:v:{i}") for i, v in enumerate(villages)]
        return [Reply(turn.text("tags_village_prompt"), (*buttons, menu))]
    if kind == "t":
        buttons = [Button(t.title, action=f"{actions.TAGS}:t:{i}") for i, t in enumerate(topics)]
        return [Reply(turn.text("tags_topic_prompt"), (*buttons, menu))]
    turn.note("subscription", outcome="tags")
    kinds = [turn.button("btn_tag_topic", f"{actions.TAGS}:t")]
    if villages:
        kinds.insert(0, turn.button("btn_tag_village", f"{actions.TAGS}:v"))
    return [Reply(turn.text("tags_prompt"), (*kinds, menu))]


async def _toggle(turn: Turn, tag: str, title: str) -> Replies:
    added = await toggle_tag(turn.session, await _contact_id(turn), tag, turn.now)
    turn.note("subscription", outcome="tag_added" if added else "tag_removed")
    text = turn.text("tag_added" if added else "tag_removed", title=title)
    buttons = (turn.button("btn_tags", actions.TAGS), turn.button("btn_menu", actions.MENU))
    return [Reply(text, buttons)]
