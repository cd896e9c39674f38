"""Survivors of `make mutation` judged equivalent in observatory/exports/images.py,
observatory/analytics/concentration.py and observatory/analytics/forecast.py (helper 2's modules),
merged into bench/mutation_equivalents.py's EQUIVALENT when present. Each names the mutant, a piece of
its mutated line (checked against it) and why no input can tell it from the original."""

_C = "observatory.analytics.concentration."
_I = "observatory.exports.images."

_SAME_RANKS = ("`rank` numbers the rows of each month in the frame's order (int_range over the month), and the "
               "rows' order within a month is the same whatever the months' own order: the same ranks")
_TIED = ("groups that tie on share are only reordered among themselves: a top-N sum takes the same shares "
         "whichever of the tied groups it counts")
_FIRST_KEPT = ("keep='first' keeps each child's first row whatever maintain_order says (it only orders the "
               "output), and `parent` is only joined on, never read in order: the same parents")
_ONE_ROW = ("`parent` holds one row a child, so each model walks one path and leaves the walk exactly once (no "
            "parent, an unstored parent, or MAX_DEPTH): `done` has one row a model and no unique can change it")
_NOCASE = ("warnings.filterwarnings compiles `message` with re.IGNORECASE: a message differing only in letter "
           "case matches the same warnings")

EQUIVALENT: dict[str, list[dict[str, str]]] = {
    "observatory/exports/images.py": [
        {"mutant": _I + "x_figure_bytes__mutmut_12", "contains": 'message="the kopts argument is ignored"',
         "why": _NOCASE},
        {"mutant": _I + "x_figure_bytes__mutmut_13", "contains": 'message="THE KOPTS ARGUMENT IS IGNORED"',
         "why": _NOCASE},
    ],
    "observatory/analytics/concentration.py": [
        {"mutant": _C + "x_concentration__mutmut_71", "contains": "descending=[True, True, False]", "why": _SAME_RANKS},
        {"mutant": _C + "x_concentration__mutmut_73", "contains": "descending=[False, True, True]", "why": _TIED},
        {"mutant": _C + "x_family_roots__mutmut_13", "contains": '.unique("child_id", keep="first", )',
         "why": _FIRST_KEPT},
        {"mutant": _C + "x_family_roots__mutmut_27", "contains": 'keep="first", maintain_order=False)',
         "why": _FIRST_KEPT},
        {"mutant": _C + "x_family_roots__mutmut_185", "contains": "unique(None, keep=\"first\")", "why": _ONE_ROW},
        {"mutant": _C + "x_family_roots__mutmut_187", "contains": "pl.concat(done).unique(keep=\"first\")",
         "why": _ONE_ROW},
        {"mutant": _C + "x_family_roots__mutmut_188", "contains": 'pl.concat(done).unique("model_id", )',
         "why": _ONE_ROW},
    ],
}

NOTES: dict[str, str] = {
    "observatory/exports/images.py": (
        "figure_bytes' filter without its message (mutmut_8) silences every warning raised while a figure renders, "
        "not only plotly's kopts one. With plotly 7.1 and kaleido 1.5.1 no other warning is raised on that path for "
        "a go.Figure (read: validate_coerce_fig_to_dict, calc_fig_sync, call_function), so no test can provoke "
        "one; it is not equivalent (a later version's warning would be hidden), left as a survivor."),
    "observatory/analytics/concentration.py": (
        "family_roots' parent table with unique keep='any' (mutmut_12): polars keeps the first row of each child "
        "in practice, so no test can tell it, but keep='any' promises nothing: not equivalent, left as a survivor."),
}
