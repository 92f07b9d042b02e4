"""Repairs to what people type, against the words a library knows: syllables run together
("khaisinh") split, typos ("vnied") mapped onto a known word."""

from collections.abc import Collection
from itertools import pairwise

from rapidfuzz import fuzz, process

from bot.typed_text import OWNER_WORDS, STOPWORDS, fold_spelling, normalize


class WordRepair:
    def __init__(self, own_words: Collection[str], terms: Collection[str]):
        """`own_words`: the words of the library's own text; `terms`: every word and word pair
        the matcher knows, citizens' questions included."""
        self._own_words = own_words
        self._terms = terms
        self._syllables = {w for w in own_words if not w.isdigit()} | STOPWORDS
        self._vocabulary = [t for t in terms if " " not in t and len(t) >= 3]

    def words(self, text: str) -> list[str]:
        """The words of a text as the library knows them, without the asker's own ("tôi")."""
        return [
            self.correct(part)
            for w in normalize(text).split()
            if w not in OWNER_WORDS
            for part in self.split_run_on(w)
        ]

    def split_run_on(self, word: str) -> list[str]:
        """Split syllables typed without spaces ('khaisinh', 'tracuuhoso') into known ones.

        Only a word the library does not use is split, only into syllables it uses, and only
        when two of them form a pair it knows: an unknown name stays one unknown word. Citizens'
        questions hold run-together words too ("dangky"): they never make one a word.
        """
        known = word in self._own_words or word in STOPWORDS
        if known or not (5 <= len(word) <= 30 and word.isalpha()):
            return [word]
        # Ways of spelling the word with known syllables of two to seven letters (a few hundred
        # tries at most: a long string of letters is not worth more).
        ways: list[list[str]] = [[]]
        done: list[list[str]] = []
        for _ in range(500):
            if not ways or len(done) >= 50:
                break
            head = ways.pop()
            at = sum(len(p) for p in head)  # folding "ky" to "ki" keeps the length
            if at == len(word):
                done.append(head)
                continue
            for size in range(2, min(7, len(word) - at) + 1):
                part = fold_spelling(word[at : at + size])
                if part in self._syllables:
                    ways.append([*head, part])

        def pairs_known(parts: list[str]) -> int:
            return sum(f"{a} {b}" in self._terms for a, b in pairwise(parts))

        best = max(done, key=lambda parts: (pairs_known(parts), -len(parts)), default=[])
        if pairs_known(best):
            return best
        return [word]

    def correct(self, word: str) -> str:
        """Map a typo onto a known word ('vnied' -> 'vneid'); leave real unknowns alone."""
        if word in self._terms or word in STOPWORDS or len(word) < 4 or word.isdigit():
            return word
        found = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=80)
        return found[0] if found else word
