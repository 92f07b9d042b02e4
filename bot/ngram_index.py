"""Character n-grams of texts, tf-idf weighted: how alike two spellings are, typos and all."""

import math
from collections import defaultdict


def ngrams(text: str) -> dict[str, float]:
    """Three- and four-letter pieces of each word (and the word itself), log-weighted."""
    counts: dict[str, int] = defaultdict(int)
    for word in text.split():
        padded = f" {word} "
        for size in (3, 4):
            for start in range(len(padded) - size + 1):
                counts[padded[start : start + size]] += 1
        counts[f"w:{word}"] += 1
    return {g: 1 + math.log(c) for g, c in counts.items()}


class NgramIndex:
    """Cosine similarity of a text to each of a list of documents, in character n-grams."""

    def __init__(self, documents: list[str]):
        vectors = [ngrams(document) for document in documents]
        frequency: dict[str, int] = defaultdict(int)
        for vector in vectors:
            for gram in vector:
                frequency[gram] += 1
        self._idf = {g: math.log(1 + len(documents) / n) for g, n in frequency.items()}
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for position, vector in enumerate(vectors):
            weighted = {g: tf * self._idf[g] for g, tf in vector.items()}
            norm = math.sqrt(sum(v * v for v in weighted.values())) or 1.0
            for gram, value in weighted.items():
                self._postings[gram].append((position, value / norm))

    def similarity(self, text: str) -> dict[int, float]:
        """Per document position, from 0 (nothing shared) to 1 (the same n-grams)."""
        query = {g: tf * self._idf[g] for g, tf in ngrams(text).items() if g in self._idf}
        norm = math.sqrt(sum(v * v for v in query.values())) or 1.0
        similarity: dict[int, float] = defaultdict(float)
        for gram, value in query.items():
            share = value / norm
            for position, weight in self._postings[gram]:
                similarity[position] += share * weight
        return similarity
