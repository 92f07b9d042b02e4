"""How a survey is opened from outside the chat: deep links, typed codes, button payloads.

- action payload: `sv:<survey id>` or `sv:<survey id>:<source>` (a campaign button, the end of
  a support session, a menu entry);
- start payload (a deep link, the web chat's `start`): `s_<survey id>_<source>` or
  `s_<survey id>`, within the 64 characters of A-Za-z0-9_- every platform carries;
- typed (where a link carries no payload, posters print it): `#KS<code>` or `#KS<code> TV05`.
The source tag says who brought the person (`poster`, a volunteer code, `c12`), as for guides.
"""

import re

from bot import actions
from bot.library import Library
from bot.links import PAYLOAD, SOURCE, ShareLink, links_for
from bot.surveys.definitions import ID, Survey

PREFIX = "s_"


def survey_action(survey_id: str, source: str | None = None) -> str:
    """The button payload that opens the survey's intro (handlers/survey.py `sv`)."""
    return f"{actions.SURVEY}:{survey_id}:{source}" if source else f"{actions.SURVEY}:{survey_id}"


def survey_payload(survey_id: str, source: str | None = None) -> str:
    if source is not None and not SOURCE.match(source):
        raise ValueError(f"source tag {source!r} must be 1-32 letters, digits or '-'")
    payload = PREFIX + survey_id + (f"_{source}" if source else "")
    if not PAYLOAD.match(payload):
        raise ValueError(f"start payload {payload!r} is longer than 64 characters")
    return payload


def parse_survey_payload(payload: str | None) -> tuple[str, str | None] | None:
    """(survey id, source) for a survey start payload; None for anything else (guides...)."""
    if not payload or not payload.startswith(PREFIX) or not PAYLOAD.match(payload):
        return None
    survey_id, _, source = payload[len(PREFIX) :].partition("_")
    if not re.match(ID, survey_id):
        return None
    return survey_id, source if source and SOURCE.match(source) else None


def survey_code_text(survey: Survey, source: str | None = None) -> str:
    """What to type as a first message on any channel: '#KS1' or '#KS1 TV05'."""
    return f"#KS{survey.code} {source}" if source else f"#KS{survey.code}"


def survey_links(library: Library, survey: Survey, source: str | None = None) -> list[ShareLink]:
    """Per channel, the link that opens the survey tagged with `source` (posters, volunteers)."""
    return links_for(library, survey_payload(survey.id, source), survey_code_text(survey, source))
