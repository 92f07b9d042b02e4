"""Scores the matcher on labelled questions: shared by the test, bench/matcher.py and tuning."""

from dataclasses import dataclass, field
from pathlib import Path

from bot.asked import read_batch
from bot.library import Library
from bot.matcher import Matcher

DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Evaluation:
    in_scope: int = 0
    top1: int = 0
    answered_right: int = 0
    answered_wrong: int = 0
    out_of_scope: int = 0
    rejected: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def top1_rate(self) -> float:
        return self.top1 / max(self.in_scope, 1)

    @property
    def rejection_rate(self) -> float:
        return self.rejected / max(self.out_of_scope, 1)

    @property
    def confident_wrong_rate(self) -> float:
        """In-scope questions answered confidently with the wrong guide: worse than unknown."""
        return self.answered_wrong / max(self.in_scope, 1)

    def summary(self, name: str) -> str:
        return (
            f"{name}: in-scope top-1 {self.top1}/{self.in_scope} = {self.top1_rate:.1%} "
            f"(confident answers right {self.answered_right}, wrong {self.answered_wrong}); "
            f"out-of-scope answered 'unknown' {self.rejected}/{self.out_of_scope} "
            f"= {self.rejection_rate:.1%}; confident-wrong {self.confident_wrong_rate:.1%}"
        )


def read_queries(name: str) -> list[tuple[str, str]]:
    """A question file kept out of the library: the held-out questions, never learnt from."""
    return read_batch(DATA / name)


def unseen_matcher(library: Library, batch: str) -> Matcher:
    """The library's matcher without the examples of `batch`: what measuring it means."""
    return Matcher.for_library(library, [a for a in library.asked if a.batch != batch])


def evaluate(matcher: Matcher, queries: list[tuple[str, str]]) -> Evaluation:
    """Top-1 counts the best-ranked guide of an answer or suggestion; unknown counts as a miss."""
    result = Evaluation()
    for query, expected in queries:
        outcome = matcher.match(query)
        best = outcome.matches[0].guide.id if outcome.matches else "unknown"
        if expected == "unknown":
            result.out_of_scope += 1
            result.rejected += outcome.outcome == "unknown"
            if outcome.outcome != "unknown":
                result.misses.append(f"OUT  {query!r} -> {outcome.outcome} {best}")
            continue
        result.in_scope += 1
        result.top1 += best == expected
        if outcome.outcome == "answer":
            result.answered_right += best == expected
            result.answered_wrong += best != expected
        if best != expected:
            result.misses.append(f"IN   {query!r} -> {outcome.outcome} {best} (want {expected})")
    return result
