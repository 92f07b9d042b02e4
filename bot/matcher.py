"""Ranking of guides against a question (what people type is folded in bot/typed_text.py)."""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import pairwise
from typing import Any, Literal

from rapidfuzz import fuzz, process

from bot.asked import OUT_OF_SCOPE, Asked
from bot.library import Guide, Library, NotCovered
from bot.ngram_index import NgramIndex
from bot.typed_text import STOPWORDS, normalize
from bot.typed_text import strip_tones as strip_tones  # where callers have found it
from bot.word_model import WordModel
from bot.word_repair import WordRepair

Outcome = Literal["answer", "suggest", "unknown"]

# How much a word counts for a guide, by where the guide uses it.
STRENGTH_TITLE_KEYWORD = 1.0
STRENGTH_QUESTION = 0.8
STRENGTH_BODY = 0.3
# Pairs of chatter words that ask rather than name: a keyword holding one ("dịch vụ công là
# gì", "hướng dẫn tại chỗ") must not claim every question asked that way ("vneid là gì").
ASKING_PAIRS = frozenset({"huong dan", "chi dan", "chi cach", "la gi"})


@dataclass(frozen=True)
class Match:
    guide: Guide
    score: float


@dataclass(frozen=True)
class Result:
    query: str
    outcome: Outcome
    matches: tuple[Match, ...]

    def as_json(self) -> dict[str, Any]:
        """What `troly ask --json` prints and the console's question tester shows."""
        return {
            "query": self.query,
            "outcome": self.outcome,
            "results": [
                {"id": m.guide.id, "title": m.guide.title, "score": round(m.score, 3)}
                for m in self.matches
            ],
        }


def _sorted_words(words: list[str]) -> str:
    return " ".join(sorted(words))


def _words(normalized: str) -> list[str]:
    return normalized.split()


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOPWORDS]


def _neighbour_pairs(words: list[str], i: int) -> list[str]:
    """The pairs word i forms with the word before and the word after it."""
    return [" ".join(words[j : j + 2]) for j in (i - 1, i) if j >= 0 and j + 1 < len(words)]


def _bigrams(words: list[str]) -> list[str]:
    """Adjacent pairs, except pairs of two chatter words ('the nao', 'bao nhieu')."""
    return [f"{a} {b}" for a, b in pairwise(words) if not (a in STOPWORDS and b in STOPWORDS)]


class Matcher:
    """Ranks guides by how much of a query they explain, each syllable weighted by how telling.

    Vietnamese meaning lives in two-syllable words ("khai sinh", "kết hôn"), and one syllable
    without tone marks means many things ("dien": điện, diện, điên). So a syllable counts fully
    only when a guide uses it in the same pair as the query, or as a one-word keyword ("vneid");
    alone it counts half. A syllable unknown to the whole library weighs as much as the rarest
    known one: "giá vàng" or "ly hôn" then leaves the query mostly unexplained: unknown.
    """

    @classmethod
    def for_library(
        cls, library: Library, asked: Iterable[Asked] | None = None, **tuning: float
    ) -> "Matcher":
        """The library's matcher; `asked`: other examples than the library's (to measure a
        batch of questions on a matcher that has not learnt from them)."""
        examples = library.asked if asked is None else asked
        return cls(list(library.guides.values()), library.not_covered, examples, **tuning)

    def __init__(
        self,
        guides: list[Guide],
        not_covered: list[NotCovered] | tuple[NotCovered, ...] = (),
        asked: Iterable[Asked] = (),
        answer_at: float = 0.58,
        suggest_at: float = 0.40,
        margin: float = 0.15,
        lone_syllable: float = 0.3,
        unseen_boost: float = 1.3,
        long_query: float = 25.0,
        named_suggest_at: float = 0.3,
    ):
        # Subjects without a guide compete like guides; when one wins, the answer is "unknown".
        decoys = [
            Guide(
                f"not-covered-{n}",
                0,
                subject.title,
                "",
                "",
                subject.keywords,
                (),
                (),
                date.min,
                "",
                (),
            )
            for n, subject in enumerate(not_covered)
        ]
        examples: dict[str, list[str]] = defaultdict(list)
        for item in asked:
            examples[item.expected].append(item.query)
        # Questions citizens asked that no guide answers compete like one more subject.
        if examples[OUT_OF_SCOPE]:
            decoys.append(Guide(OUT_OF_SCOPE, 0, "", "", "", (), (), (), date.min, "", ()))
        self.guides = guides = [*guides, *decoys]
        # How people ask for each: the guide's sample questions and what citizens asked.
        questions = [(*guide.questions, *examples[guide.id]) for guide in guides]
        # Words the library itself uses: citizens' questions also hold words run together
        # ("dangky") and typos, which must stay things to split and correct, not words.
        self._own_words: set[str] = set()
        self.answer_at = answer_at
        self.suggest_at = suggest_at
        self.margin = margin
        self.lone_syllable = lone_syllable
        self.unseen_boost = unseen_boost
        self.long_query = long_query
        self.named_suggest_at = named_suggest_at
        self._strength: dict[str, dict[int, float]] = defaultdict(dict)
        self._samples: list[str] = []
        self._sample_owner: list[int] = []
        self._standalone: set[str] = set()
        # One-word keywords of real guides ("vneid", "otp"): a query naming one is in scope.
        self._anchors: set[str] = set()
        self._chatter_pairs: dict[str, set[int]] = defaultdict(set)
        for index, guide in enumerate(guides):
            tiers = (
                (STRENGTH_TITLE_KEYWORD, [guide.title, *guide.keywords]),
                (STRENGTH_QUESTION, list(guide.questions)),
                (STRENGTH_BODY, [guide.summary, *(s.title + " " + s.body for s in guide.steps)]),
            )
            for strength, phrases in tiers:
                for phrase in phrases:
                    self._own_words.update(self._index(index, phrase, strength))
            for phrase in examples[guide.id]:
                self._index(index, phrase, STRENGTH_QUESTION)
            for phrase in (guide.title, *guide.keywords):
                for a, b in pairwise(_words(normalize(phrase))):
                    if a in STOPWORDS or b in STOPWORDS:
                        self._chatter_pairs[f"{a} {b}"].add(index)
            for keyword in guide.keywords:
                words = _words(normalize(keyword))
                if len(words) == 1:
                    self._standalone.add(words[0])
                    if guide.code:
                        self._anchors.add(words[0])
        total = max(len(guides), 1)
        # Only strong uses (title, keywords, questions) make a word common: body text says a lot.
        self._idf = {
            term: math.log(1 + total / max(sum(1 for s in owners.values() if s >= 0.8), 0.5))
            for term, owners in self._strength.items()
        }
        self._unseen_idf = self.unseen_boost * math.log(1 + 2 * total)
        self._repair = WordRepair(self._own_words, self._strength)
        # Two chatter words in a keyword can still name a thing ("mới đẻ", "máy mới").
        # But "hướng dẫn" is how people ask about anything ("hướng dẫn cài vneid"), not a subject.
        self._phrase_pairs = {
            pair: owners
            for pair, owners in self._chatter_pairs.items()
            if len(owners) <= 3 and pair not in ASKING_PAIRS
        }
        # The meaningful words of each subject-without-a-guide's keywords, read once.
        self._subject_keywords: dict[int, list[frozenset[str]]] = {
            index: [kept for k in guide.keywords if (kept := self._keyword_words(k))]
            for index, guide in enumerate(guides)
            if not guide.code
        }
        # Multi-word keywords found whole in a query are the surest sign of what it is about.
        self._phrases: dict[str, set[int]] = defaultdict(set)
        # A subject without a guide is named by one word too ("shopee", "lazada"): no guide
        # explains that word, so it cannot be a guide's chatter.
        for index, guide in enumerate(guides):
            for keyword in (guide.title, *guide.keywords):
                phrase = normalize(keyword)
                if len(phrase.split()) >= 2 or (phrase and not guide.code):
                    self._phrases[phrase].add(index)
        # The meaningful words of each guide's title, keywords and questions, read once.
        meaningful = [
            [self._meaningful(_words(normalize(p))) for p in (g.title, *g.keywords, *questions[i])]
            for i, g in enumerate(guides)
        ]
        for index, phrases in enumerate(meaningful):
            for words in phrases:
                self._samples.append(_sorted_words(words))
                self._sample_owner.append(index)
        # Character n-grams of each guide's title, keywords and questions.
        self._ngram_index = NgramIndex(
            [" ".join(" ".join(words) for words in phrases) for phrases in meaningful]
        )
        self._word_model = WordModel(
            (index, self._features(self._meaningful(self._repair.words(phrase))))
            for index, guide in enumerate(guides)
            for phrase in (guide.title, *guide.keywords, *questions[index])
        )
        # Coverage, closeness to a sample, whole keyword phrase, n-grams, word model: tuned on
        # content/asked/, each batch on a matcher that had not learnt from it.
        self.weights = (0.7, 0.9, 0.2, 0.9, 0.45)
        # People ask the same few things; ranking a question anew costs a millisecond or more.
        self._remembered = lru_cache(maxsize=4096)(self._match)

    def _index(self, index: int, phrase: str, strength: float) -> list[str]:
        """Record that guide `index` uses the words and pairs of `phrase`; return its words."""
        words = _words(normalize(phrase))
        for term in _content(words) + _bigrams(words):
            known = self._strength[term].get(index, 0.0)
            self._strength[term][index] = max(known, strength)
        return words

    def _keyword_words(self, keyword: str) -> frozenset[str]:
        return frozenset(self._meaningful(_words(normalize(keyword))))

    def _meaningful(self, words: list[str]) -> list[str]:
        """Content words, plus chatter words that form a telling pair with a neighbour."""
        kept = []
        for i, word in enumerate(words):
            pairs = [f"{a} {b}" for a, b in pairwise(words[max(i - 1, 0) : i + 2])]
            if word not in STOPWORDS or any(p in self._phrase_pairs for p in pairs):
                kept.append(word)
        return kept

    def _coverage(self, words: list[str], meaningful: set[str]) -> tuple[dict[int, float], float]:
        """Per guide, the idf-weighted share of the query's meaningful syllables it explains."""
        explained: dict[int, float] = defaultdict(float)
        total_weight = 0.0
        for i, word in enumerate(words):
            if word not in meaningful:
                continue
            covered: dict[int, float] = {}
            if word in STOPWORDS:
                weight = math.log(1 + len(self.guides) / 3)
                for pair in _neighbour_pairs(words, i):
                    for index in self._phrase_pairs.get(pair, ()):
                        covered[index] = STRENGTH_QUESTION
            else:
                weight = self._idf.get(word, self._unseen_idf)
                if word.isdigit():
                    # An amount or a date ("20 triệu", "lớp 1") says little about the subject;
                    # a number that names one ("mức 2") counts through its pair.
                    weight = min(weight, math.log(1 + len(self.guides) / 3))
                factor = 1.0 if word in self._standalone else self.lone_syllable
                for index, strength in self._strength.get(word, {}).items():
                    covered[index] = factor * strength
                for pair in _neighbour_pairs(words, i):
                    for index, strength in self._strength.get(pair, {}).items():
                        covered[index] = max(covered.get(index, 0.0), strength)
            total_weight += weight
            for index, share in covered.items():
                explained[index] += weight * share
        return explained, total_weight

    @staticmethod
    def _features(meaningful: list[str]) -> list[str]:
        """What the word model reads: the meaningful words and each pair of neighbours."""
        return [*meaningful, *(f"{a} {b}" for a, b in pairwise(meaningful))]

    def components(self, query: str) -> dict[int, tuple[float, ...]]:
        """Per candidate guide: share explained, closeness to a sample, phrase found, n-grams,
        the word model's probability."""
        words = self._repair.words(query)
        meaningful = self._meaningful(words)
        explained, total_weight = self._coverage(words, set(meaningful))
        if not explained:
            return {}
        content = " ".join(meaningful)
        closeness: dict[int, float] = defaultdict(float)
        # token_sort_ratio, with the samples' words sorted once instead of at every comparison.
        for _, score, position in process.extract(
            _sorted_words(meaningful), self._samples, scorer=fuzz.ratio, limit=40
        ):
            owner = self._sample_owner[position]
            closeness[owner] = max(closeness[owner], score / 100)
        # Subjects without a guide have only short keywords, which never rank among the
        # closest samples: a keyword found whole among the query's words is their closeness.
        query_words = set(meaningful)
        for index in explained:
            for kept in self._subject_keywords.get(index, ()):
                if kept <= query_words:
                    closeness[index] = max(closeness[index], len(kept) / max(len(meaningful), 1))
        padded = f" {' '.join(words)} "
        found = [(p, owners) for p, owners in self._phrases.items() if f" {p} " in padded]
        phrase_hit: dict[int, float] = defaultdict(float)
        for phrase, owners in found:
            # "mật khẩu" inside "quên mật khẩu zalo" names what the longer phrase names.
            if not any(len(o) > len(phrase) and f" {phrase} " in f" {o} " for o, _ in found):
                for index in owners:
                    phrase_hit[index] = 1.0
        ngram = self._ngram_index.similarity(content)
        likely = self._word_model.probabilities(self._features(meaningful))
        # A long, rambling question tells its story around the subject: past the weight of a
        # few telling words, more words do not make the best guide explain less of it.
        total_weight = min(total_weight, self.long_query)
        return {
            i: (
                min(e / total_weight, 1.0),
                closeness[i],
                phrase_hit[i],
                ngram[i],
                likely.get(i, 0.0),
            )
            for i, e in explained.items()
        }

    def scores(self, query: str) -> list[Match]:
        """Guides best first, leaving out subjects that have no guide."""
        return [m for m in self._ranked(query) if m.guide.code]

    def _ranked(self, query: str) -> list[Match]:
        return self._ranked_with_phrases(query)[0]

    def _ranked_with_phrases(self, query: str) -> tuple[list[Match], set[int]]:
        """Guides best first, and the guides (or subjects) a whole keyword phrase names."""
        components = self.components(query)
        ranked = [
            Match(
                self.guides[i],
                sum(w * c for w, c in zip(self.weights, parts, strict=True)) / sum(self.weights),
            )
            for i, parts in components.items()
        ]
        ranked.sort(key=lambda m: (-m.score, m.guide.code))
        return ranked, {i for i, parts in components.items() if parts[2]}

    def _floor(self, ranked: list[Match], named: set[int]) -> float:
        """The least score worth suggesting. A long story ("ba tui mất hôm tuần rồi ở quê, ...
        giờ phải làm giấy tờ gì") explains little of itself, yet when it names one guide's
        subject whole and that guide leads clearly, the guide is still worth offering."""
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        named_best = any(self.guides[i] is best.guide for i in named)
        if named_best and best.score - runner_up >= self.margin:
            return self.named_suggest_at
        return self.suggest_at

    def match(self, query: str) -> Result:
        return self._remembered(query)

    def _match(self, query: str) -> Result:
        ranked, named = self._ranked_with_phrases(query)
        if not ranked or not ranked[0].guide.code:
            return Result(query, "unknown", ())
        least = self._floor(ranked, named)
        if ranked[0].score < least:
            return Result(query, "unknown", ())
        # The query names a subject without a guide ("sổ đỏ", "trả góp") and names no guide's
        # subject, not even in one word ("vneid"): a guide that merely shares other words is no
        # answer.
        anchored = any(w in self._anchors for w in _words(normalize(query)))
        if named and not anchored and not any(self.guides[i].code for i in named):
            return Result(query, "unknown", ())
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if best.score >= self.answer_at and best.score - runner_up >= self.margin:
            return Result(query, "answer", (best,))
        floor = max(least, best.score - 0.15)
        close = tuple(m for m in ranked[:4] if m.guide.code and m.score >= floor)
        if len(close) == 1 and best.score >= self.answer_at:
            return Result(query, "answer", close)
        return Result(query, "suggest", close)
