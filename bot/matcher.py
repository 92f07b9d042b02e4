"""Normalisation of what people type and ranking of guides against it."""

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from bot.library import Guide

# Typed abbreviations and teencode, after tone marks are stripped.
ABBREVIATIONS = {
    "dvc": "dich vu cong",
    "dvctt": "dich vu cong truc tuyen",
    "dvcqg": "dich vu cong quoc gia",
    "tthc": "thu tuc hanh chinh",
    "cccd": "can cuoc cong dan",
    "cmnd": "chung minh nhan dan",
    "cmt": "chung minh nhan dan",
    "bhyt": "bao hiem y te",
    "bhxh": "bao hiem xa hoi",
    "gplx": "giay phep lai xe",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "dthoai": "dien thoai",
    "ck": "chuyen khoan",
    "tk": "tai khoan",
    "mk": "mat khau",
    "pass": "mat khau",
    "password": "mat khau",
    "ubnd": "uy ban nhan dan",
    "ca": "cong an",
    "lltp": "ly lich tu phap",
    "ks": "khai sinh",
    "app": "ung dung",
    "apk": "ung dung apk",
    "web": "trang web",
    "website": "trang web",
    "ntn": "nhu the nao",
    "ko": "khong",
    "k": "khong",
    "kg": "khong",
    "hok": "khong",
    "hong": "khong",
    "dc": "duoc",
    "dk": "dang ky",
    "dky": "dang ky",
    "j": "gi",
    "z": "vay",
    "lm": "lam",
    "mik": "minh",
    "mn": "moi nguoi",
    "e": "em",
    "a": "anh",
    "c": "chi",
    "ng": "nguoi",
    "hs": "ho so",
    "sim": "so dien thoai",
    "pa": "phan anh",
    "eid": "vneid",
    "vnid": "vneid",
    "vneit": "vneid",
}
PHRASES = {
    "vn eid": "vneid",
    "v neid": "vneid",
    "vn id": "vneid",
    "ve ne id": "vneid",
    "muc 2": "muc2",
    "muc hai": "muc2",
    "level 2": "muc2",
    "cap 2": "muc2",
}
# Words that say how someone asks, not what about.
STOPWORDS = set(
    [
        "a",
        "ah",
        "a`",
        "ad",
        "ak",
        "anh",
        "ba",
        "bac",
        "ban",
        "be",
        "bi",
        "biet",
        "cach",
        "can",
        "cau",
        "chi",
        "cho",
        "chu",
        "co",
        "con",
        "cua",
        "cu",
        "da",
        "dang",
        "duoc",
        "de",
        "den",
        "di",
        "do",
        "em",
        "gi",
        "giup",
        "ha",
        "hay",
        "hoi",
        "hoac",
        "huong",
        "dan",
        "khi",
        "khong",
        "kieu",
        "la",
        "lam",
        "luc",
        "ma",
        "may",
        "minh",
        "moi",
        "muon",
        "nao",
        "nay",
        "nen",
        "nguoi",
        "nha",
        "nhe",
        "nho",
        "nhu",
        "nhung",
        "o",
        "oi",
        "ong",
        "phai",
        "ra",
        "rang",
        "roi",
        "sao",
        "sang",
        "so",
        "sy",
        "tai",
        "thang",
        "the",
        "thi",
        "theo",
        "thu",
        "thuong",
        "toi",
        "tren",
        "tu",
        "tui",
        "va",
        "vao",
        "vay",
        "ve",
        "voi",
        "vui",
        "xin",
        "xem",
    ]
)

Outcome = Literal["answer", "suggest", "unknown"]


@dataclass(frozen=True)
class Match:
    guide: Guide
    score: float


@dataclass(frozen=True)
class Result:
    query: str
    outcome: Outcome
    matches: tuple[Match, ...]


_NON_WORD = re.compile(r"[^a-z0-9]+")


def strip_tones(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lower case, no tone marks, đ -> d, full-width folded, punctuation folded, abbreviations expanded."""
    plain = " " + _NON_WORD.sub(" ", strip_tones(text)).strip() + " "
    for phrase, replacement in PHRASES.items():
        plain = plain.replace(f" {phrase} ", f" {replacement} ")
    return " ".join(ABBREVIATIONS.get(word, word) for word in plain.split())


def _terms(normalized: str) -> list[str]:
    """Content words and the bigrams between them: 'khai sinh' says more than 'sinh'."""
    words = [w for w in normalized.split() if w not in STOPWORDS]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


class Matcher:
    """Ranks guides by how much of the query their words explain and how close a sample is."""

    def __init__(
        self,
        guides: list[Guide],
        answer_at: float = 0.62,
        suggest_at: float = 0.45,
        margin: float = 0.08,
    ):
        self.guides = guides
        self.answer_at = answer_at
        self.suggest_at = suggest_at
        self.margin = margin
        self._weights: dict[str, dict[int, float]] = defaultdict(dict)
        self._samples: list[str] = []
        self._sample_owner: list[int] = []
        document_count: dict[str, int] = defaultdict(int)
        term_sets = []
        for index, guide in enumerate(guides):
            phrases = [guide.title, *guide.keywords, *guide.questions]
            terms = {t for p in phrases for t in _terms(normalize(p))}
            terms |= set(_terms(normalize(guide.summary)))
            term_sets.append(terms)
            for term in terms:
                document_count[term] += 1
            for phrase in phrases:
                self._samples.append(normalize(phrase))
                self._sample_owner.append(index)
        total = max(len(guides), 1)
        self._idf = {t: math.log(1 + total / n) for t, n in document_count.items()}
        self._unseen_idf = math.log(1 + total)
        for index, terms in enumerate(term_sets):
            for term in terms:
                self._weights[term][index] = self._idf[term]
        self._vocabulary = [t for t in self._idf if " " not in t and len(t) >= 3]

    def _correct(self, word: str) -> str:
        """Map a typo onto a known word ('vnied' -> 'vneid'); leave real unknowns alone."""
        if word in self._idf or len(word) < 4:
            return word
        found = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=80)
        return found[0] if found else word

    def scores(self, query: str) -> list[Match]:
        normalized = normalize(query)
        words = [self._correct(w) for w in normalized.split() if w not in STOPWORDS]
        if not words:
            return []
        terms = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        query_weight = sum(self._idf.get(t, self._unseen_idf) for t in terms if " " not in t)
        query_weight += sum(self._idf[t] for t in terms if " " in t and t in self._idf)
        coverage: dict[int, float] = defaultdict(float)
        for term in terms:
            for index, weight in self._weights.get(term, {}).items():
                coverage[index] += weight
        if not coverage:
            return []
        closeness: dict[int, float] = defaultdict(float)
        cleaned = " ".join(words)
        for _, score, position in process.extract(
            cleaned, self._samples, scorer=fuzz.token_sort_ratio, limit=20, score_cutoff=40
        ):
            owner = self._sample_owner[position]
            closeness[owner] = max(closeness[owner], score / 100)
        ranked = []
        for index, covered in coverage.items():
            explained = min(covered / query_weight, 1.0)
            ranked.append(Match(self.guides[index], 0.65 * explained + 0.35 * closeness[index]))
        ranked.sort(key=lambda m: (-m.score, m.guide.code))
        return ranked

    def match(self, query: str) -> Result:
        ranked = self.scores(query)
        if not ranked or ranked[0].score < self.suggest_at:
            return Result(query, "unknown", ())
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if best.score >= self.answer_at and best.score - runner_up >= self.margin:
            return Result(query, "answer", (best,))
        close = tuple(m for m in ranked[:4] if m.score >= max(self.suggest_at, best.score - 0.15))
        if len(close) == 1:
            return Result(query, "answer" if best.score >= self.answer_at else "suggest", close)
        return Result(query, "suggest", close)
