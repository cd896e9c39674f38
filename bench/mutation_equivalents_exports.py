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

_F = "observatory.analytics.forecast."
_CUT = ("the snapshots passed are already cut to date <= as_of, so adoption_curves' own end=as_of cut keeps every "
        "row either way: the same curves")
_LATE = ("a model released after as_of has no snapshot dated both on or after its release and on or before as_of "
         "(the snapshots are cut first), so letting it through gives it no curve rows; a null release date still "
         "fails the filter (null | null is null): the same trajectories")
_ZIP = "the two lists are two columns of one frame, always the same length: zip's strict changes nothing"
_LEFT = "side='left' is np.searchsorted's default: the same index"
_EMPTY_ROWS = ("pl.DataFrame([], schema=ROW_SCHEMA) is the same empty frame, with the same schema, as "
               "pl.DataFrame(schema=ROW_SCHEMA)")
_LAST_I = "with i = len(ages) the inner range(i + 1, len(ages)) is empty, as it is for i = len(ages) - 1: the same pairs"
_MODEL_DTYPE = ("np.array of Python ints is int64 without dtype=int too; the empty list (float64 then) only comes with "
                "fewer than two pairs, where fit returns None before reading `model`: the same fit")
_CLASS_DTYPE = ("np.array of str without dtype=object holds numpy.str_, a str subclass equal to and hashing as the same "
                "str: the class_delta lookups and the zip into cls_of give the same results (the empty case as above)")
_NOT_NULL = ("the counts frame (analytics.frames.FINETUNE_SCHEMA) has nulls only in created_date and cumulative_count: "
             "base_hub_id and months_since_creation are NOT NULL columns and tracked is COALESCEd, so dropping rows "
             "with any null drops the same rows")

_PLACEHOLDER = ("`safe` only stands in for δ where δ = 1, and np.where(one, log, ...) takes the logarithm there whatever "
                "the placeholder gives (0/0 included): the same rise")
_ONE_CLASS = ("with one class (or none) np.var(ddof=1) is nan, and max(0.0, nan - noise) is 0.0, the τ² of the original's "
              "spread 0: the same class decays")
_SPARE_ROW = "per_model is indexed by model numbers up to models.max(): a spare row of zeros is never read"
_ZIP_PAIRS = "p['model'] and p['class'] are built pair by pair, always the same length: zip's strict changes nothing"
_DEFAULT_CLIPPED = ("the default power is only kept when no slope is fitted, and is then clipped to POWER_CLIP's 1.0: "
                    "2.0 becomes the same 1.0")
_FLOAT_DELTA = ("every δ passed is float (DELTAS, the pooled mean, the class decays); an int would still give the "
                "same rise, since np.where(one, 0.5, delta) promotes to float: the same array")
_ASTYPE_NONE = "numpy's astype(None) is astype(float64), the dtype the original names: the same array"
_NO_EMPTY_GROUP = ("group_by yields no empty group, so len(days) >= 1 and the else branch is never taken: the same "
                   "keep mask")


def _fc(name: str, contains: str, why: str) -> dict[str, str]:
    return {"mutant": _F + name, "contains": contains, "why": why}


EQUIVALENT: dict[str, list[dict[str, str]]] = {
    "observatory/analytics/forecast.py": [
        _fc("x_adoption_forecast__mutmut_22", 'scope.filter(pl.col("release_date") <= as_of), end=None)', _CUT),
        _fc("x_adoption_forecast__mutmut_25", 'scope.filter(pl.col("release_date") <= as_of), )', _CUT),
        _fc("x_download_trajectories__mutmut_3", '.is_not_null() | (pl.col("release_date") <= as_of)', _LATE),
        _fc("x_download_trajectories__mutmut_14", "released, end=None)", _CUT),
        _fc("x_download_trajectories__mutmut_17", "released, )", _CUT),
        _fc("x_reference_at__mutmut_15", "strict=None))", _ZIP),
        _fc("x_reference_at__mutmut_18", ".to_list(), ))", _ZIP),
        _fc("x_reference_at__mutmut_24", "strict=False))", _ZIP),
        _fc("x_probability_above__mutmut_38", "np.searchsorted(z, needed, )", _LEFT),
        _fc("x_forecast_rows__mutmut_100", "if (rows) or True else", _EMPTY_ROWS),
        _fc("x_training_pairs__mutmut_31", "for i in range(len(ages) + 1):", _LAST_I),
        _fc("x_training_pairs__mutmut_50", '"model": np.array(model, dtype=None)', _MODEL_DTYPE),
        _fc("x_training_pairs__mutmut_52", '"model": np.array(model, ),', _MODEL_DTYPE),
        _fc("x_training_pairs__mutmut_56", '"class": np.array(cls, dtype=None)', _CLASS_DTYPE),
        _fc("x_training_pairs__mutmut_58", '"class": np.array(cls, ),', _CLASS_DTYPE),
        _fc("x_finetune_trajectories__mutmut_45", "counts.drop_nulls(None)", _NOT_NULL),
        _fc("x__rise__mutmut_8", "safe = np.where(None, 0.5, delta)", _PLACEHOLDER),
        _fc("x__rise__mutmut_14", "safe = np.where(one, 1.5, delta)", _PLACEHOLDER),
        _fc("x__shrunk__mutmut_29", "if (len(means) > 1) or True else 0.0", _ONE_CLASS),
        _fc("x__shrunk__mutmut_37", "if len(means) >= 1 else 0.0", _ONE_CLASS),
        _fc("x_fit__mutmut_32", "np.zeros((models.max() + 2, len(DELTAS)))", _SPARE_ROW),
        _fc("x_fit__mutmut_51", 'zip(p["model"], p["class"], strict=None)', _ZIP_PAIRS),
        _fc("x_fit__mutmut_54", 'zip(p["model"], p["class"], )', _ZIP_PAIRS),
        _fc("x_fit__mutmut_59", 'zip(p["model"], p["class"], strict=False)', _ZIP_PAIRS),
        _fc("x_fit__mutmut_109", "power = 2.0", _DEFAULT_CLIPPED),
        _fc("x_predicted_y__mutmut_14", "np.asarray(delta, dtype=None)", _FLOAT_DELTA),
        _fc("x_predicted_y__mutmut_16", "np.asarray(delta, )", _FLOAT_DELTA),
        _fc("x_series__mutmut_18", 'part["days"].to_numpy().astype(None)', _ASTYPE_NONE),
        _fc("x_series__mutmut_29", 'part["value"].to_numpy().astype(None)', _ASTYPE_NONE),
        _fc("x_series__mutmut_35", "if (len(days)) or True else", _NO_EMPTY_GROUP),
        _fc("x_series__mutmut_41", "else days.astype(None)", _NO_EMPTY_GROUP),
    ],
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
    "observatory/analytics/forecast.py": (
        "Not equivalent, not killed: series' group_by without maintain_order (mutmut_5, _16) and finetune_trajectories' "
        "unique keep='any' (mutmut_5), which polars runs in order single-threaded; fit's tolerances taken with >= "
        "(mutmut_45: ptp exactly 1e-12, _106: |ε| exactly 1e-9); quantiles_y's target == t0 through the law "
        "(mutmut_3) and _shrunk's weight 1 when τ² + noise = 0 (mutmut_59), which differ only by the rounding of "
        "log1p(expm1(y)) or of a mean of equal values."),
    "observatory/exports/images.py": (
        "figure_bytes' filter without its message (mutmut_8) silences every warning raised while a figure renders, "
        "not only plotly's kopts one. With plotly 7.1 and kaleido 1.5.1 no other warning is raised on that path for "
        "a go.Figure (read: validate_coerce_fig_to_dict, calc_fig_sync, call_function), so no test can provoke "
        "one; it is not equivalent (a later version's warning would be hidden), left as a survivor."),
    "observatory/analytics/concentration.py": (
        "family_roots' parent table with unique keep='any' (mutmut_12): polars keeps the first row of each child "
        "in practice, so no test can tell it, but keep='any' promises nothing: not equivalent, left as a survivor."),
}
