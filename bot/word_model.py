"""Which guide a question's words most likely come from: naive Bayes over how people asked.

The matcher's other signals ask how much of a question a guide explains; this one asks which
guide's questions used these words, learnt from every sample question and every question in
content/asked/, so a word people use for one subject far more than for others ("sanh",
"thương binh") counts for it even where no guide's text has it.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

# Added to every word count, so a word a guide's questions never used does not rule it out.
SMOOTHING = 0.1
# Each word's log-likelihood is averaged over the question's known words and multiplied by
# this: a long question would otherwise make one guide's probability 1.0 and every other 0.
SHARPNESS = 4.0


class WordModel:
    def __init__(self, examples: Iterable[tuple[int, list[str]]]):
        """`examples`: (owner, the words and word pairs of one question it answers)."""
        self._counts: dict[int, Counter[str]] = defaultdict(Counter)
        for owner, features in examples:
            self._counts[owner].update(features)
        self._known = {feature for counts in self._counts.values() for feature in counts}
        smoothed = SMOOTHING * len(self._known)
        self._totals = {owner: sum(c.values()) + smoothed for owner, c in self._counts.items()}

    def probabilities(self, features: list[str]) -> dict[int, float]:
        """Per owner, how likely the question is theirs (summing to 1); empty when no word of
        the question was ever seen."""
        known = [f for f in features if f in self._known]
        if not known:
            return {}
        scale = SHARPNESS / len(known)
        log_likelihood = {
            owner: scale
            * sum(math.log((counts.get(f, 0) + SMOOTHING) / self._totals[owner]) for f in known)
            for owner, counts in self._counts.items()
        }
        best = max(log_likelihood.values())
        weights = {owner: math.exp(value - best) for owner, value in log_likelihood.items()}
        total = sum(weights.values())
        return {owner: weight / total for owner, weight in weights.items()}
