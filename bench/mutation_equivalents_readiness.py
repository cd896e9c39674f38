"""Survivors of `make mutation` judged equivalent in the fine-tunability leaderboard, the events feed's
threshold events and the tooling-readiness dashboard (merged by bench/mutation_equivalents.py).

Each names the mutant, a piece of its mutated line (checked, so a renumbered mutant is not excused by
mistake) and why no input can tell it from the original."""

_INNER = "how='inner' is polars' default for join: dropping the argument changes nothing"

_TR = "observatory.analytics.tooling_readiness."

EQUIVALENT: dict[str, list[dict[str, str]]] = {
    "observatory/analytics/tooling_readiness.py": [
        {"mutant": _TR + "x_per_model__mutmut_8", "contains": '.join(readiness, on="model_id", )', "why": _INNER},
    ],
}
