"""Surveys in the chat: one question per message, skip, stop, continue later, one per round.

Entry points (one line each for campaigns, posters, share links, the end of a session):
- the action `sv:<survey id>` or `sv:<survey id>:<source tag>` shows the intro;
- typed `#KS<code>` or `#KS<code> TV05` (where links carry no payload), or "khảo sát";
- a start payload from bot/surveys/links.py (a deep link), through the before-hook.
Button payloads carry the survey's code and the question's position, never a response id:
the message log, keyed by chat, must not lead to anybody's answers.
"""

import re
from datetime import datetime, timedelta

from bot import actions
from bot.links import SOURCE
from bot.matcher import normalize
from bot.messages import Button, Reply
from bot.privacy import pseudonym
from bot.surveys.definitions import MULTI_SEPARATOR, Question, Survey, load_surveys
from bot.surveys.links import parse_survey_payload, survey_action
from bot.surveys.typed import button_labels, typed_choice, typed_number
from handlers.menu import main_menu
from handlers.routing import Replies, Turn, router
from storage.models import SurveyResponse, SurveyRound
from storage.staff import is_staff
from storage.surveys import (
    answers_of,
    contact_village,
    find_response,
    open_round_of,
    save_answer,
    set_staff,
    set_village,
    start_response,
)

MODE = "survey"
MAX_TEXT = 500
# Typed controls. "dừng" is also the campaign opt-out (handlers/subscription.py): inside a
# survey it means "stop the survey", anywhere else the opt-out keeps it.
_CONTROL_WORDS = re.compile(r"(?i)^\s*(bỏ qua|bo qua|dừng|stop|thôi)\s*[.!]*\s*$")
_STOP_WORDS = {"dung", "stop", "thoi"}
HINTS = {"number": "survey_hint_number", "text": "survey_hint_text", "multi": "survey_hint_multi"}


def surveys(turn: Turn) -> dict[str, Survey]:
    return load_surveys(turn.settings.content_dir, turn.library.profile)


def _by_code(turn: Turn, code: str) -> Survey | None:
    return next((s for s in surveys(turn).values() if str(s.code) == code), None)


def _respondent(turn: Turn, round_id: int) -> str:
    """Keyed by round: finds the person's own response, links to nothing else."""
    incoming = turn.incoming
    chat = f"{incoming.chat_id}/survey/{round_id}"
    return pseudonym(turn.settings.pseudonym_key, incoming.channel, chat)


def _menu(turn: Turn) -> Button:
    return turn.button("btn_menu", actions.MENU)


def _stale(turn: Turn) -> Replies:
    turn.note("survey", outcome="stale")
    return main_menu(turn, turn.text("stale_button"))


def _forget_answer(turn: Turn) -> None:
    """The answer is in the survey tables; the message log keeps only that one was given.
    Also for what is not an answer yet: a choice marked among several, a number mistyped."""
    turn.private = True


async def _find(turn: Turn, survey: Survey) -> tuple[SurveyRound | None, SurveyResponse | None]:
    round_ = await open_round_of(turn.session, survey.id)
    if round_ is None:
        return None, None
    return round_, await find_response(turn.session, round_.id, _respondent(turn, round_.id))


# --- entry ------------------------------------------------------------------------------------


@router.on_action(actions.SURVEY)
async def open_survey(turn: Turn, survey_id: str = "", source: str = "") -> Replies:
    """The intro, or where the person left off, or a thank-you if they already answered."""
    survey = surveys(turn).get(survey_id)
    if survey is None:
        return _stale(turn)
    round_, response = await _find(turn, survey)
    turn.note("survey", outcome="intro")
    if round_ is None:
        return [Reply(turn.text("survey_closed", title=survey.title), (_menu(turn),))]
    if response is not None and response.finished_at is not None:
        return [Reply(turn.text("survey_already", title=survey.title), (_menu(turn),))]
    if response is not None:
        lead = Reply(turn.text("survey_resume", title=survey.title))
        return await _next(turn, survey, response, [lead])
    privacy = turn.text("survey_named" if survey.named else "survey_anonymous")
    text = "\n\n".join([survey.title.upper(), survey.intro, privacy, turn.text("survey_how")])
    tag = f":{source}" if SOURCE.match(source or "") else ""
    begin = turn.button("btn_survey_begin", f"{actions.SURVEY_BEGIN}:{survey.id}{tag}")
    return [Reply(text, (begin, turn.button("btn_survey_later", actions.MENU)))]


@router.on_action(actions.SURVEY_BEGIN)
async def begin(turn: Turn, survey_id: str = "", source: str = "") -> Replies:
    survey = surveys(turn).get(survey_id)
    if survey is None:
        return _stale(turn)
    round_, response = await _find(turn, survey)
    if round_ is None or (response is not None and response.finished_at is not None):
        return await open_survey(turn, survey_id)
    if response is None:
        incoming = turn.incoming
        response = await start_response(
            turn.session,
            round_id=round_.id,
            respondent=_respondent(turn, round_.id),
            channel=incoming.channel,
            village=await contact_village(
                turn.session, incoming.channel, incoming.chat_id, turn.library.profile
            ),
            source=source if SOURCE.match(source or "") else turn.referral,
            chat_id=incoming.chat_id if survey.named else None,
            started_at=turn.now,
            updated_at=turn.now,
        )
    await _mark_staff(turn, response)
    turn.note("survey", outcome="begin")
    return await _next(turn, survey, response)


@router.on_command("khảo sát", "khao sat", "/khaosat", "làm khảo sát", "lam khao sat")
async def list_open(turn: Turn) -> Replies:
    open_now = [s for s in surveys(turn).values() if await open_round_of(turn.session, s.id)]
    if len(open_now) == 1:
        return await open_survey(turn, open_now[0].id)
    turn.note("survey", outcome="list")
    if not open_now:
        return [Reply(turn.text("survey_none_open"), (_menu(turn),))]
    buttons = [Button(s.title, action=f"{actions.SURVEY}:{s.id}") for s in open_now]
    return [Reply(turn.text("survey_choose"), (*buttons, _menu(turn)))]


@router.on_pattern(r"(?i)^\s*#?\s*ks\s*(\d{1,2})(?:\s+([A-Za-z0-9-]{1,32}))?\s*$")
async def by_code(turn: Turn, code: str, source: str | None = None) -> Replies:
    """'#KS1' or '#KS1 TV05': what a poster or a volunteer's message says to type."""
    survey = _by_code(turn, str(int(code)))
    if survey is None:
        return _stale(turn)
    return await open_survey(turn, survey.id, source or "")


# --- asking -------------------------------------------------------------------------------


async def _next(
    turn: Turn, survey: Survey, response: SurveyResponse, lead: Replies | None = None
) -> Replies:
    """The first question not answered yet whose condition holds, or the closing text."""
    answers = await answers_of(turn.session, response.id)
    given = {qid: (None if a.skipped else a.choice) for qid, a in answers.items()}
    for index, question in enumerate(survey.questions):
        if question.id in answers or not survey.applies(question, given):
            continue
        if question.kind == "village" and (response.village or not question.options):
            # Known from the contact's village tag (or the commune lists no villages).
            choice = response.village
            await save_answer(
                turn.session, response, question.id, choice=choice, skipped=not choice
            )
            continue
        return [*(lead or []), _ask(turn, survey, index)]
    response.finished_at = turn.now
    response.stopped = False
    _leave(turn)
    turn.note("survey", outcome="finished")
    return [*(lead or []), Reply(survey.closing, (_menu(turn),))]


def _ask(turn: Turn, survey: Survey, index: int, picked: list[int] | None = None) -> Reply:
    question = survey.questions[index]
    turn.state.mode, turn.state.guide_id = MODE, None
    turn.state.data["survey"] = {"c": survey.code, "q": index, "i": question.id, "p": picked or []}
    progress = turn.text("survey_progress", number=index + 1, total=len(survey.questions))
    text = f"{progress}: {question.text}"
    if question.kind in HINTS:
        text += "\n\n" + turn.text(HINTS[question.kind])
    if question.kind == "number":
        # No buttons: a typed "2" must be the answer, not the second button.
        return Reply(text)
    base = f"{actions.SURVEY_ANSWER}:{survey.code}:{index}"
    buttons = []
    for position, label in enumerate(_labels(turn, question)):
        if question.kind == "multi":
            mark = "✅ " if position in (picked or []) else ""
            buttons.append(Button(mark + label, action=f"{base}:m:{position}"))
        else:
            buttons.append(Button(label, action=f"{base}:a:{position}"))
    if question.kind == "multi":
        buttons.append(turn.button("btn_survey_done", f"{base}:d"))
    buttons.append(turn.button("btn_survey_skip", f"{base}:s"))
    buttons.append(turn.button("btn_survey_stop", f"{base}:x"))
    return Reply(text, tuple(buttons))


def _labels(turn: Turn, question: Question) -> list[str]:
    return button_labels(question, (turn.text("survey_yes"), turn.text("survey_no")))


def _leave(turn: Turn) -> None:
    turn.state.mode = None
    turn.state.data.pop("survey", None)


async def _mark_staff(turn: Turn, response: SurveyResponse) -> None:
    """Staff trying the survey out are never counted (checked on every answer)."""
    staff = await is_staff(turn.session, turn.incoming.channel, turn.incoming.chat_id)
    if staff != response.staff:
        await set_staff(turn.session, response.id, staff)
        response.staff = staff


# --- answering ----------------------------------------------------------------------------


async def _current(turn: Turn, code: str, index: str) -> tuple[Survey, SurveyResponse, int] | None:
    """The survey, the person's unfinished response and the question position, if all valid."""
    survey = _by_code(turn, code)
    if survey is None or not index.isdigit() or int(index) >= len(survey.questions):
        return None
    asked = (turn.state.data.get("survey") or {}).get("i")
    if asked and asked != survey.questions[int(index)].id:
        return None  # the file changed since the question was asked
    _, response = await _find(turn, survey)
    if response is None or response.finished_at is not None:
        return None
    return survey, response, int(index)


@router.on_action(actions.SURVEY_ANSWER)
async def press(
    turn: Turn, code: str = "", index: str = "", op: str = "", value: str = ""
) -> Replies:
    """A button under a question: a(nswer), m(ark in a multi), d(one), s(kip), x (stop)."""
    found = await _current(turn, code, index)
    if found is None:
        survey = _by_code(turn, code)
        return await open_survey(turn, survey.id) if survey else _stale(turn)
    survey, response, position = found
    _forget_answer(turn)  # the payload names the option pressed
    if (turn.state.data.get("survey") or {}).get("q") != position:
        return await _next(turn, survey, response)  # an old keyboard: back to where they are
    question = survey.questions[position]
    await _mark_staff(turn, response)
    values = question.values()
    chosen = int(value) if value.isdigit() and int(value) < len(values) else None
    if op == "x":
        return _stop(turn, survey, response)
    if op == "s":
        return await _answer(turn, survey, response, question, skipped=True)
    if op == "a" and chosen is not None and question.kind != "multi":
        return await _answer(turn, survey, response, question, choice=values[chosen])
    if op == "m" and chosen is not None:
        state = turn.state.data.get("survey") or {}
        picked = list(state.get("p") or []) if state.get("q") == position else []
        picked = [p for p in picked if p != chosen] if chosen in picked else [*picked, chosen]
        turn.note("survey", outcome="mark")
        return [_ask(turn, survey, position, sorted(picked))]
    if op == "d":
        picked = (turn.state.data.get("survey") or {}).get("p") or []
        if not picked:
            return await _answer(turn, survey, response, question, skipped=True)
        choice = MULTI_SEPARATOR.join(values[p] for p in sorted(picked) if p < len(values))
        return await _answer(turn, survey, response, question, choice=choice)
    return [_ask(turn, survey, position)]


async def _answer(
    turn: Turn,
    survey: Survey,
    response: SurveyResponse,
    question: Question,
    **answer: object,
) -> Replies:
    if question.kind == "village" and isinstance(answer.get("choice"), str):
        await set_village(turn.session, response, answer["choice"])  # type: ignore[arg-type]
    await save_answer(turn.session, response, question.id, **answer)  # type: ignore[arg-type]
    response.updated_at, response.stopped = turn.now, False
    _forget_answer(turn)
    turn.note("survey", outcome="skipped" if answer.get("skipped") else "answered")
    return await _next(turn, survey, response)


def _stop(turn: Turn, survey: Survey, response: SurveyResponse) -> Replies:
    response.stopped, response.updated_at = True, turn.now
    _leave(turn)
    turn.note("survey", outcome="stopped")
    buttons = (turn.button("btn_survey_continue", f"{actions.SURVEY}:{survey.id}"), _menu(turn))
    return [Reply(turn.text("survey_stopped"), buttons)]


@router.on_mode(MODE)
async def typed(turn: Turn) -> Replies | None:
    """Typed answers: numbers, free text, a choice by its words, several choices as '1 3'."""
    state = turn.state.data.get("survey") or {}
    found = await _current(turn, str(state.get("c")), str(state.get("q")))
    text = turn.incoming.text.strip()
    if found is None:
        _leave(turn)  # the round closed or the file changed meanwhile: nothing to answer
    if found is None or not text:
        return None
    survey, response, position = found
    question = survey.questions[position]
    await _mark_staff(turn, response)
    if question.kind == "text":
        # Already screened by bot/privacy.py: ID numbers and OTPs arrive as [***].
        return await _answer(turn, survey, response, question, text=text[:MAX_TEXT])
    if question.kind == "number":
        number = typed_number(text, question)
        if number is None:
            _forget_answer(turn)  # "nhiều lắm", "hai": an answer all the same
            return [Reply(turn.text("survey_bad_number")), _ask(turn, survey, position)]
        return await _answer(turn, survey, response, question, number=number)
    choice = typed_choice(question, _labels(turn, question), text)
    if choice is not None:
        return await _answer(turn, survey, response, question, choice=choice)
    if len(text.split()) > 3:
        return None  # a question of their own: search answers it, the survey waits
    hint = "survey_hint_multi" if question.kind == "multi" else "survey_hint_choice"
    return [Reply(turn.text(hint)), _ask(turn, survey, position)]


@router.before_turn
async def survey_first(turn: Turn) -> Replies | None:
    """A survey link opens the survey; while one is open, 'bỏ qua' and 'dừng' belong to it
    (elsewhere 'dừng' is the news opt-out, handlers/subscription.py)."""
    opened = parse_survey_payload(turn.incoming.referral)
    if opened is not None:
        survey_id, source = opened
        turn.referral = source
        return await open_survey(turn, survey_id, source or "")
    control = _CONTROL_WORDS.match(turn.incoming.text) if turn.state.mode == MODE else None
    if control is None:
        return None
    state = turn.state.data.get("survey") or {}
    found = await _current(turn, str(state.get("c")), str(state.get("q")))
    stop = normalize(control.group(1)) in _STOP_WORDS
    if found is None:
        _leave(turn)  # the survey ended meanwhile: "dừng" stops it, never the news
        if not stop:
            return None
        turn.note("survey", outcome="stopped")
        return main_menu(turn)
    survey, response, position = found
    if stop:
        return _stop(turn, survey, response)
    return await _answer(turn, survey, response, survey.questions[position], skipped=True)


# --- at the end of a support session (the engine's after-hook calls this) -------------------


async def session_end_invitation(turn: Turn) -> Replies:
    """The invitation to SURVEY_AFTER_SESSION in place of the rating question, or [] when the
    setting is unset, the survey has no open round, the person already answered this round, or
    they were invited within SURVEY_INVITE_DAYS (the conversation state remembers when)."""
    survey = surveys(turn).get(turn.settings.survey_after_session or "")
    if survey is None:
        return []
    last = turn.state.data.get("survey_invited")
    days = turn.settings.survey_invite_days
    if isinstance(last, str) and turn.now - datetime.fromisoformat(last) < timedelta(days=days):
        return []
    round_, response = await _find(turn, survey)
    if round_ is None or (response is not None and response.finished_at is not None):
        return []
    turn.state.data["survey_invited"] = turn.now.isoformat()
    text = turn.text("survey_invitation", title=survey.title)
    buttons = (turn.button("btn_survey_begin", survey_action(survey.id)), _menu(turn))
    return [Reply(text, buttons)]
