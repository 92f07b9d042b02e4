"""Benchmark: the matcher on every batch of citizens' questions and on the held-out file,
beside the reference.

Targets (issue 15), on questions written without seeing the guides and never tuned on:
top-1 >= 95% in scope, >= 95% of out-of-scope questions answered "unknown", at most 1% of
in-scope questions answered confidently with a wrong guide.

The matcher learns from content/asked/ (bot/asked.py): each batch there is measured on a
matcher built from the other batches, so it tells how the bot does on questions it has not
learnt; the held-out file is never learnt from nor tuned on (nor read). Words were tuned on
the labelled batch and dev1 to dev6, never on dev7 to dev16; the weights of the matcher's five
signals and its thresholds were chosen once it learnt from content/asked/, on the figures of
dev7 to dev16 (each on a matcher without it).

Reference: the figures before issue 15 (commit 9a3043f: the 2025 library and matcher) on the
labelled batch and the held-out file; for dev4 to dev6, the matcher they were first measured on
(4f1446a, before any tuning on them); for dev7 and dev8, the matcher before it learnt from
content/asked/ (535e442); for dev9 to dev16, the first matcher that learnt from it, from the
labelled batch and dev1 to dev8 (d4773f5), before the word model. "held-out, unseen" leaves
out held-out questions that, once normalised, are word for word a guide's sample question or
keyword or a question in content/asked/: those test nothing the matcher has not been shown.

    python bench/matcher.py [--misses]   # --misses lists the batches' misses only
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.asked import batches  # noqa: E402
from bot.library import load_library  # noqa: E402
from bot.matcher import Matcher, normalize  # noqa: E402
from tests.matcher_eval import Evaluation, evaluate, read_queries, unseen_matcher  # noqa: E402

# (top-1, unknown for out-of-scope, confident-wrong) before, as the docstring says.
REFERENCE = {
    "labelled": (0.946, 0.909, 0.033),
    "dev4": (0.947, 0.862, 0.008),
    "dev5": (0.945, 0.886, 0.000),
    "dev6": (0.909, 0.875, 0.005),
    "dev7": (0.820, 0.986, 0.000),
    "dev8": (0.908, 0.971, 0.019),
    "dev9": (0.940, 0.943, 0.011),
    "dev10": (0.966, 0.929, 0.000),
    "dev11": (0.964, 0.943, 0.000),
    "dev12": (0.934, 0.943, 0.004),
    "dev13": (0.930, 0.886, 0.008),
    "dev14": (0.941, 0.914, 0.004),
    "dev15": (0.974, 0.900, 0.004),
    "dev16": (0.931, 0.986, 0.004),
    "held-out": (0.552, 0.855, 0.131),
}
TARGET = (0.95, 0.95, 0.01)
POOLED_FIELDS = ("in_scope", "top1", "answered_right", "answered_wrong", "out_of_scope", "rejected")


def unseen(queries: list[tuple[str, str]], matcher: Matcher, shown: list[str]):
    known = {normalize(q) for q in shown}
    for guide in matcher.guides:
        known |= {normalize(t) for t in (guide.title, *guide.keywords, *guide.questions)}
    return [(q, e) for q, e in queries if normalize(q) not in known]


def row(name: str, result: Evaluation) -> str:
    ref = REFERENCE.get(name, (None, None, None))
    now = (result.top1_rate, result.rejection_rate, result.confident_wrong_rate)
    cells = []
    for before, after in zip(ref, now, strict=True):
        cells.append(f"{'  -  ' if before is None else f'{before:5.1%}'} -> {after:5.1%}")
    sizes = f"{result.in_scope} in, {result.out_of_scope} out"
    return f"{name:<18} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16}   ({sizes})"


def main() -> None:
    library = load_library(ROOT / "content")
    matcher = Matcher.for_library(library)
    results = {
        name: evaluate(unseen_matcher(library, name), queries)
        for name, queries in batches(library.asked).items()
    }
    # The batches whose words were never tuned on, pooled: the best estimate beside held-out.
    fresh = [results[f"dev{n}"] for n in range(7, 17)]
    results["dev7-dev16 pooled"] = Evaluation(
        **{f: sum(getattr(r, f) for r in fresh) for f in POOLED_FIELDS}
    )
    held_out = read_queries("matcher_holdout.tsv")
    shown = [item.query for item in library.asked]
    results["held-out"] = evaluate(matcher, held_out)
    results["held-out, unseen"] = evaluate(matcher, unseen(held_out, matcher, shown))
    print(f"{'':<18} {'top-1 in scope':>16} {'unknown (out)':>16} {'confident-wrong':>16}")
    for name, result in results.items():
        print(row(name, result))
    wrong = f"<= {TARGET[2]:.0%}"
    print(f"{'target':<18} {TARGET[0]:>16.0%} {TARGET[1]:>16.0%} {wrong:>16}")
    if "--misses" in sys.argv:
        shown_batches = [name for name in results if not name.startswith("held-out")]
        print("\n".join(miss for name in shown_batches for miss in results[name].misses))


if __name__ == "__main__":
    main()
