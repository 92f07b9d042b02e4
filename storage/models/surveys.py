"""Surveys: rounds, responses and answers."""

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import UTCDateTime, when


class SurveyRound(SQLModel, table=True):
    """One round of a survey (content/surveys/<id>.yaml), opened and closed by staff."""

    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: str = Field(max_length=40)
    number: int  # 1, 2, ... per survey: "the change since the previous round" compares these
    title: str = Field(max_length=200)  # as it was when opened: results outlive content edits
    opened_at: datetime = when()
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class SurveyResponse(SQLModel, table=True):
    """One person's answers in one round: at most one per person, kept when they stop.

    `respondent` is a keyed hash of the chat and the round: it finds the person's own response
    (to continue it, to refuse a second one) but cannot be joined to anything else. Only a
    survey marked `named` keeps the chat id.
    """

    __table_args__ = (
        UniqueConstraint("round_id", "respondent"),
        Index(
            "ix_surveyresponse_results",
            "round_id", "staff", "channel", "village", "finished_at", "stopped",
        ),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="surveyround.id")
    respondent: str = Field(max_length=32)
    channel: str = Field(max_length=20)
    village: str | None = Field(default=None, max_length=120)  # the contact's village tag
    source: str | None = Field(default=None, max_length=64)  # poster, TV05, c12: who sent them
    staff: bool = False  # answered by a registered staff member: never counted
    chat_id: str | None = Field(default=None, max_length=128)  # named surveys only
    started_at: datetime = when()
    updated_at: datetime = when()
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    stopped: bool = False  # said "dừng"; may continue later


class SurveyAnswer(SQLModel, table=True):
    """One question answered (or skipped) in a response; see bot/surveys/definitions.py.

    The round, channel, village and staff flag are copies of the response's: results group
    a round's answers by them in one pass over one index (100,000 responses in well under
    2 s, bench/surveys.py) instead of joining and sorting a million rows.
    """

    __table_args__ = (
        UniqueConstraint("response_id", "question_id"),
        Index(
            "ix_surveyanswer_results",
            "round_id", "staff", "question_id", "choice", "skipped", "channel", "village", "number",
        ),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="surveyresponse.id", ondelete="CASCADE")
    round_id: int = Field(foreign_key="surveyround.id")
    staff: bool = False
    channel: str = Field(max_length=20)
    village: str | None = Field(default=None, max_length=120)
    question_id: str = Field(max_length=40)
    choice: str | None = Field(default=None, max_length=500)  # option id(s), co/khong, 1..5
    number: float | None = None
    text: str | None = Field(default=None, max_length=1000)  # redacted before it gets here
    skipped: bool = False
