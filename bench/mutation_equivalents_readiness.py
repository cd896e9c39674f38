"""Survivors of `make mutation` judged equivalent in the fine-tunability leaderboard, the events feed's
threshold events and the tooling-readiness dashboard (merged by bench/mutation_equivalents.py).

Each names the mutant, a piece of its mutated line (checked, so a renumbered mutant is not excused by
mistake) and why no input can tell it from the original. NOTES says what the survivors left counted
against the score are."""

_INNER = "how='inner' is polars' default for join: dropping the argument changes nothing"
_EMPTY_LITERAL = ("this branch runs only on a frame of no rows: a literal column of no rows has only its name and "
                  "dtype (both kept), never its value")
_ONE_HUB_ID = ("only the order of the groups changes (polars keeps the rows' order within a group, so first() is "
               "still the earliest day), and the result is then sorted by (date, hub_id), a total order: a model "
               "has one Hub id (unique in the catalogue) and one row here")

_FT = "observatory.analytics.fine_tunability."
_RE = "observatory.analytics.release_events."
_TR = "observatory.analytics.tooling_readiness."

EQUIVALENT: dict[str, list[dict[str, str]]] = {
    "observatory/analytics/fine_tunability.py": [
        {"mutant": _FT + f"x_leaderboard__mutmut_{n}", "contains": f"pl.lit({value}, pl.Int64).alias(\"{column}\")",
         "why": _EMPTY_LITERAL}
        for n, value, column in ((48, None, "models_in_config"), (52, 1, "models_in_config"), (56, None, "rank"),
                                 (60, 1, "rank"), (64, None, "config_order"), (68, 1, "config_order"))
    ],
    "observatory/analytics/release_events.py": [
        {"mutant": _RE + "x_ram_v2_crossings__mutmut_10", "contains": 'on=["size_class", "days"], )', "why": _INNER},
        {"mutant": _RE + "x_conflict_events__mutmut_12", "contains": 'on="derivative", )', "why": _INNER},
        {"mutant": _RE + "x_ram_v2_crossings__mutmut_45", "contains": 'group_by("model_id", ).first()',
         "why": _ONE_HUB_ID},
        {"mutant": _RE + "x_ram_v2_crossings__mutmut_53", "contains": 'group_by("model_id", maintain_order=False)',
         "why": _ONE_HUB_ID},
    ],
    "observatory/analytics/tooling_readiness.py": [
        {"mutant": _TR + "x_per_model__mutmut_8", "contains": '.join(readiness, on="model_id", )', "why": _INNER},
    ],
}

NOTES: dict[str, str] = {
    "observatory/analytics/fine_tunability.py": (
        "2 survivors counted against the score, not equivalent: latest_per_model without maintain_order "
        "(dropped or False) returns the same rows in another order. Its docstring promises no order and its one "
        "caller, leaderboard, sorts by a total order (config, then Hub id within a config), so no page changes; "
        "a test pinning that order would pin an accident."),
    "observatory/analytics/release_events.py": (
        "1 survivor counted against the score, not equivalent: conflict_events' unique() without keep='first' "
        "falls back to keep='any', which polars 2.1 resolves to the first row here (checked, also on 200,000 rows "
        "in 1,000 groups) but does not promise; with two edges from one derivative to one base the relation shown "
        "could then be either."),
}
