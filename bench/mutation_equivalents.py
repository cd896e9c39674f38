"""The survivors of `make mutation` (bench/mutation.py) judged equivalent: no input can tell the
mutant from the original. Kept apart from the runner, as data: each names the mutant, a piece of its
mutated line (checked, so a renumbered mutant is not excused by mistake) and why."""

# Survivors judged equivalent: no input can tell the mutant from the original. Each names the
# mutant, a piece of its mutated line (checked, so a renumbered mutant is not excused by mistake)
# and why.
_INFERRED = ("country_region returns a str for every value (the country column is NOT NULL text), so polars infers "
             "String, and an empty column keeps String too (checked): the result and its schema are the same")
_SQL_CASE = ("SQL keywords, function names and unquoted identifiers are case-insensitive on SQLite and "
             "PostgreSQL (which folds unquoted names to lower case): the same query")
_NO_PARAMS = ("a query without placeholders runs the same with params None as with []: cursor.execute(sql, None) "
              "and _inline(sql, None) (`if params`) both take it as no parameters")
_NULL_BOUND = ("pl.lit(None) as the window's bound: min_horizontal/max_horizontal skip nulls, so the row's own date "
               "bounds it, as the original's pl.col does (the tests with no start or end pass both ways)")
_Q = "observatory.analytics.quality."
# Modules whose string literals that differ only in case are SQL (checked line by line by SQL_WORDS).
SQL_MODULES = ("observatory/analytics/quality.py", "observatory/analytics/frames.py",
               "observatory/analytics/rollups.py", "ingest/lineage.py")
_FR = "observatory.analytics.frames."


def _quality(name: str, contains: str, why: str) -> dict[str, str]:
    return {"mutant": _Q + name, "contains": contains, "why": why}


_A = "observatory.analytics.adoption."
_INNER = "how='inner' is polars' default for join: dropping the argument changes nothing"

_D = "observatory.analytics.derivatives."
_INT_LITERAL = "pl.lit of a Python int is Int32 without a dtype too (checked): the same column"
_ROW_ORDER = ("only the row order of ancestors() changes, which is no part of its contract: every caller groups or "
              "joins the pairs (and keep='first' still picks the same row)")
_DEFAULT_ARG = "the argument dropped is the parameter's default: the same call"

_F = "observatory.analytics.finetunes."
_RANKING = ("with by='region' the ranking only renames base_hub_id, which the region rows do not group by: the "
            "same sums and shares")

_G = "observatory.analytics.gap."
_BOTH_SET = ("best[side] is (None, None) or (score, model), set together (a model always has a name), so testing "
             "either member for None is the same test")
_ALL_SET = ("a frontier row with a vertical gap has both sides' score and model set: dropping rows with any null "
            "drops the same rows as dropping those without a gap")
_NULL_COLUMN = ("the interval columns added as untyped nulls are only read back as Python None by to_dicts(); the "
                "table is built with GAP_SCHEMA: the same rows and dtypes")


def _gap(name: str, contains: str, why: str) -> dict[str, str]:
    return {"mutant": _G + name, "contains": contains, "why": why}


_R = "observatory.analytics.rollups."
_COLUMN_CASE = ("an unquoted column name in upper case: SQLite and PostgreSQL fold it, the same column is compared "
                "(the filters' SQL is asserted through the rows they select)")

_P = "observatory.analytics.arrow_pool.xǁArrowPoolǁ"

_PF = "observatory.analytics.probe_frames."
_ORIENT_OF_DICTS = ("the rows are dicts, and polars reads a list of dicts by their keys whatever `orient` says "
                    "(orient only says how to read sequences): the same frame with rows and without (checked)")

_T = "observatory.labs.tokens."
_SELECT_RELATED = "select_related only saves the query that reads the lab later: the same row and lab"
_ORIENT = ("six (child, parent) pairs against two columns: polars reads a list of tuples longer than the schema "
           "as rows whatever orient says (None infers it)")

_L = "ingest.lineage."
_REVISIT = ("the walk then visits a level's nodes again, but every edge lands in the same sets and max_depth bounds "
            "it: the same parents (only more queries)")

EQUIVALENT: dict[str, list[dict[str, str]]] = {
    "ingest/lineage.py": [
        {"mutant": _L + "x_licence_conflicts__mutmut_13", "contains": 'select_related("parent")', "why": _SELECT_RELATED},
        {"mutant": _L + "x_licence_conflicts__mutmut_14", "contains": 'select_related("child", )',
         "why": _SELECT_RELATED},
        {"mutant": _L + "xǁLineageGraphǁaround__mutmut_28", "contains": "seen = frontier", "why": _REVISIT},
        {"mutant": _L + "xǁLineageGraphǁaround__mutmut_29", "contains": "seen &= frontier", "why": _REVISIT},
        {"mutant": _L + "xǁLineageGraphǁaround__mutmut_38", "contains": "range(0, len(batch), )",
         "why": "a step of 1 queries overlapping 500-id slices: every id is still asked for, the sets are the same"},
        {"mutant": _L + "xǁLineageGraphǁaround__mutmut_47", "contains": "batch[start:start + 501]",
         "why": "501-id slices every 500 overlap by one id: every id is still asked for, the sets are the same"},
    ],
    "observatory/labs/tokens.py": [
        {"mutant": _T + "x_authenticate__mutmut_7", "contains": "select_related(None)", "why": _SELECT_RELATED},
        {"mutant": _T + "x_find_revoked__mutmut_9", "contains": "select_related(None)", "why": _SELECT_RELATED},
        {"mutant": _T + "x_create_token__mutmut_3", "contains": "token_urlsafe(None)",
         "why": "token_urlsafe(None) takes secrets.DEFAULT_ENTROPY, 32 bytes: the same 43-character token"},
        {"mutant": _T + "x_revoke__mutmut_8", "contains": "refresh_from_db(fields=None)",
         "why": "reloading every field reloads revoked_at too, the only field read after"},
    ],
    "observatory/analytics/licences.py": [
        {"mutant": "observatory.analytics.licences.x_licence_conflicts__mutmut_8", "contains": "orient=None)",
         "why": _ORIENT},
        {"mutant": "observatory.analytics.licences.x_licence_conflicts__mutmut_11", "contains": ")",
         "why": _ORIENT},
    ],
    "ingest/licences.py": [
        {"mutant": "ingest.licences.x_normalise_licence__mutmut_21", "contains": "else 100",
         "why": "an unknown member's sort key only has to exceed every rank (0-3): 99 and 100 both do"},
    ],
    "observatory/analytics/arrow_pool.py": [
        {"mutant": _P + "_acquire__mutmut_23", "contains": "if remaining < 0:",
         "why": "at exactly 0 s left the mutant waits 0 s and loops once more, then raises the same PoolTimeout"},
        {"mutant": _P + "_acquire__mutmut_32", "contains": "self._give_back(None, None)",
         "why": "_give_back reads the uri only to keep a connection idle; with no connection it never reads it"},
        {"mutant": _P + "run__mutmut_1", "contains": "reused = None",
         "why": "`reused` is only read as `not reused`: None and False say the same"},
    ],
    "observatory/analytics/probe_frames.py": [
        {"mutant": _PF + f"x_{fn}__mutmut_{n}", "contains": change, "why": _ORIENT_OF_DICTS}
        for fn, n, change in (("models_of", 44, 'orient=None)'), ("models_of", 47, "schema=MODEL_SCHEMA, )"),
                              ("readiness_by_model", 28, 'orient=None)'),
                              ("readiness_by_model", 31, "schema=READINESS_SCHEMA, )"),
                              ("finetune_runs", 102, 'pl.Datetime("us", "UTC")}, orient=None)'),
                              ("finetune_runs", 105, 'pl.Datetime("us", "UTC")}, )'),
                              ("finetune_runs", 120, "schema=FINETUNE_SCHEMA, orient=None)"),
                              ("finetune_runs", 123, "schema=FINETUNE_SCHEMA, ), curve_frame"))
    ] + [
        {"mutant": _PF + "x_finetune_runs__mutmut_115", "contains": 'pl.Datetime("us", "utc")',
         "why": "polars resolves the time zone name when it builds the frame: a column declared 'utc' comes out as "
                "Datetime('us', 'UTC'), with rows and without (checked: the schemas compare equal)"},
    ],
    "observatory/analytics/rollups.py": [
        {"mutant": _R + f"x_daily_gains__mutmut_{n}", "contains": f'"{word}"', "why": _COLUMN_CASE}
        for n, word in ((9, "TRACKED"), (13, "REGION"), (17, "ORGANIZATION"), (21, "SIZE_CLASS"), (25, "PIPELINE_TAG"))
    ] + [
        # refresh()'s statements with their keywords and unquoted names in another case; each was
        # run (tests/analytics_postgres/test_rollup_refresh.py) and reached, and PostgreSQL folds
        # unquoted names to lower case. The quoted '256MB' keeps its case in mutant 13 (the lower
        # case one, '256mb', is an invalid unit and is killed), and %s stays lower case in 28 (the
        # upper case one, %S, is no placeholder and is killed).
        {"mutant": _R + "x_refresh__mutmut_13", "contains": "SET LOCAL WORK_MEM = '256MB'", "why": _SQL_CASE},
        {"mutant": _R + "x_refresh__mutmut_28", "contains": "insert into catalog_rollupstate (name, source_version",
         "why": _SQL_CASE},
        {"mutant": _R + "x_refresh__mutmut_31", "contains": "on conflict (name) do update set source_version = excluded.",
         "why": _SQL_CASE},
        {"mutant": _R + "x_refresh__mutmut_32", "contains": "ON CONFLICT (NAME) DO UPDATE SET SOURCE_VERSION = EXCLUDED.",
         "why": _SQL_CASE},
        {"mutant": _R + "x_refresh__mutmut_34", "contains": "built_at = excluded.built_at, seconds = excluded.seconds",
         "why": _SQL_CASE},
        {"mutant": _R + "x_refresh__mutmut_35", "contains": "BUILT_AT = EXCLUDED.BUILT_AT, SECONDS = EXCLUDED.SECONDS",
         "why": _SQL_CASE},
    ],
    "observatory/analytics/frames.py": [
        {"mutant": _FR + "x__frame__mutmut_26", "contains": "if date_columns or rows:",
         "why": "with no rows the loop below has nothing to convert, and with no date columns it converts nothing: "
                "the same frame"},
        {"mutant": _FR + "x__frame__mutmut_31", "contains": "row[i][:11]",
         "why": "SQLite hands a date expression (DATE(...)) back as 10-character text and a timestamp column as a "
                "datetime (never sliced): [:11] slices the same 10 characters"},
        {"mutant": _FR + "x__adbc_uri__mutmut_12", "contains": 'safe="XXXX"',
         "why": "quote() never escapes letters: safe='XXXX' escapes what safe='' escapes ('/' included, asserted)"},
        {"mutant": _FR + "x__adbc_uri__mutmut_26", "contains": 'safe="XXXX"',
         "why": "quote() never escapes letters: safe='XXXX' escapes what safe='' escapes ('/' included, asserted)"},
        {"mutant": _FR + "x__parse__mutmut_7", "contains": "str.to_date(None)",
         "why": "polars infers %Y-%m-%d for ISO dates, the only form COPY writes a date column in"},
        {"mutant": _FR + "x_edges__mutmut_6", "contains": "params: list = None", "why": _NO_PARAMS},
        {"mutant": _FR + "x_finetune_counts__mutmut_2", "contains": "None, FINETUNE_SCHEMA)", "why": _NO_PARAMS},
        {"mutant": _FR + "x_organizations__mutmut_2", "contains": "None, ORG_SCHEMA)", "why": _NO_PARAMS},
    ],
    "observatory/analytics/gap.py": [
        _gap("x_closed_frontier__mutmut_33", 'float("-INF")', "float() reads '-INF' as '-inf': the same value"),
        _gap("x_current_gap__mutmut_30", "fronts.drop_nulls(None)", _ALL_SET),
        _gap("x_mean_vertical_gap__mutmut_3", "fronts.drop_nulls(None)", _ALL_SET),
        _gap("x_frontiers__mutmut_21", "best[side][1] is None", _BOTH_SET),
        _gap("x_frontiers__mutmut_56", "closed[1] is None", _BOTH_SET),
        _gap("x_frontiers__mutmut_58", "open_[1] is None", _BOTH_SET),
        _gap("x_horizontal_gaps__mutmut_12", "pl.lit(None, dtype=None)", _NULL_COLUMN),
        _gap("x_horizontal_gaps__mutmut_14", "pl.lit(None, )", _NULL_COLUMN),
        _gap("x_mean_horizontal_gap__mutmut_19", "if (matched.height) or True else []",
             "value_counts of an empty column gives no rows: the same empty rules"),
        _gap("x_mean_horizontal_gap__mutmut_78", "integers(months.size, size=",
             "numpy's integers(n) draws from [0, n) like integers(0, n), with the same stream"),
        _gap("x_mean_vertical_gap__mutmut_40", 'last, eager=True)', "'1d' is date_range's default interval"),
        _gap("x_mean_vertical_gap__mutmut_45", '"1D"', "polars reads '1D' as one day, as '1d' (the day counts "
                                                       "asserted are the same)"),
        _gap("x_mean_vertical_gap__mutmut_53", 'on="date", )', "'backward' is join_asof's default strategy"),
    ],
    "observatory/analytics/finetunes.py": [
        {"mutant": _F + "x_finetunes_by_origin__mutmut_103", "contains": 'on="base_hub_id", )', "why": _INNER},
        {"mutant": _F + "x_finetunes_by_origin__mutmut_110", "contains": 'bases.select("base_hub_id"), on="base_hub_id", ))',
         "why": "an inner join with a frame of unique base ids alone adds no column and keeps the rows the semi join "
                "keeps"},
        {"mutant": _F + "x_finetunes_by_origin__mutmut_173", "contains": 'if by != "XXregionXX":', "why": _RANKING},
        {"mutant": _F + "x_finetunes_by_origin__mutmut_174", "contains": 'if by != "REGION":', "why": _RANKING},
        {"mutant": _F + "x_observation_end__mutmut_3", "contains": "and False else",
         "why": "the max of an empty column is None in polars: the guard's answer either way"},
    ],
    "observatory/analytics/derivatives.py": [
        {"mutant": _D + "x__once_per_base__mutmut_17", "contains": 'pl.lit("XX#XX")',
         "why": "any prefix holding '#' keeps stored bases' keys apart from Hub ids (which cannot hold '#'): the same "
                "pairs are kept"},
        {"mutant": _D + "x__once_per_base__mutmut_6", "contains": 'keep="first", )', "why": _ROW_ORDER},
        {"mutant": _D + "x__once_per_base__mutmut_33", "contains": "maintain_order=False", "why": _ROW_ORDER},
        {"mutant": _D + "x__with_base_attributes__mutmut_16", "contains": 'on="child_id", )', "why": _INNER},
        {"mutant": _D + "x_ancestors__mutmut_109", "contains": '.join(up, on="base_id", )', "why": _INNER},
        {"mutant": _D + "x_ancestors__mutmut_41", "contains": "pl.lit(1, dtype=None)", "why": _INT_LITERAL},
        {"mutant": _D + "x_ancestors__mutmut_43", "contains": "pl.lit(1, )", "why": _INT_LITERAL},
        {"mutant": _D + "x_ancestors__mutmut_136", "contains": "pl.lit(depth, dtype=None)", "why": _INT_LITERAL},
        {"mutant": _D + "x_ancestors__mutmut_138", "contains": "pl.lit(depth, )", "why": _INT_LITERAL},
        {"mutant": _D + "x_finetune_share_by_base_region__mutmut_12", "contains": 'by="region", start=start',
         "why": _DEFAULT_ARG},
        {"mutant": _D + "x_finetune_share_by_base_region__mutmut_13", "contains": 'scope="direct", start=start',
         "why": _DEFAULT_ARG},
    ],
    "observatory/analytics/adoption.py": [
        {"mutant": _A + "x_adoption_curves__mutmut_36", "contains": 'on="model_id", )', "why": _INNER},
        {"mutant": _A + "x_relative_adoption__mutmut_25", "contains": '.join(reference, on=["size_class", "days"], )',
         "why": "every (size_class, days) of `latest` is a group of `curves`, from which `reference` is built, so "
                "the left join never misses a row and an inner join keeps the same rows"},
    ],
    "observatory/analytics/quality.py": [
        _quality("x_coverage__mutmut_8", "select source, count(distinct", _SQL_CASE),
        _quality("x_coverage__mutmut_9", "SELECT SOURCE, COUNT(DISTINCT MODEL_ID)", _SQL_CASE),
        _quality("x_coverage__mutmut_11", '"group by source"', _SQL_CASE),
        _quality("x_coverage__mutmut_12", '"GROUP BY SOURCE"', _SQL_CASE),
        _quality("x_stored_issues__mutmut_8", "select source, model_id", _SQL_CASE),
        _quality("x_stored_issues__mutmut_9", "SELECT SOURCE, MODEL_ID", _SQL_CASE),
        _quality("x_crawl_gaps__mutmut_5", "JULIANDAY(Q.DATE) - JULIANDAY(Q.PREVIOUS)", _SQL_CASE),
        _quality("x_crawl_gaps__mutmut_10", '"Q.DATE - Q.PREVIOUS"', _SQL_CASE),
        _quality("x_coverage__mutmut_2", '"GROUP BY source", None,', _NO_PARAMS),
        _quality("x_stored_issues__mutmut_2", "None, ISSUE_SCHEMA)", _NO_PARAMS),
        _quality("x_crawl_gaps__mutmut_13", 'None, {"model_id": pl.Int64', _NO_PARAMS),
        _quality("x_contradictions__mutmut_3", 'None, {"source": pl.Utf8', _NO_PARAMS),
        _quality("x_flagged_in_view__mutmut_21", "lo = pl.lit(start) if (start) or True", _NULL_BOUND),
        _quality("x_flagged_in_view__mutmut_28", "hi = pl.lit(end) if (end) or True", _NULL_BOUND),
        _quality("x_all_issues__mutmut_8", "crawl_gaps()], )",
                 "the three frames have exactly ISSUE_SCHEMA's dtypes (each one's schema is asserted), so a "
                 "plain vertical concat gives what the relaxed one does"),
    ],
    "observatory/analytics/releases.py": [
        {"mutant": "observatory.analytics.releases.x_notable_releases_by_region__mutmut_38",
         "contains": "return_dtype=None", "why": _INFERRED},
        {"mutant": "observatory.analytics.releases.x_notable_releases_by_region__mutmut_40",
         "contains": "map_elements(country_region, )", "why": _INFERRED},
    ],
}

# What the survivors that are not equivalent are, module by module (judged by reading them).
SURVIVOR_NOTES: dict[str, str] = {
    "observatory/analytics/frames.py": (
        "measured at 6acb275bf1 with the postgres tier (tests/fast/test_catalogue_frames.py and "
        "tests/analytics_postgres/test_frames_paths.py on PostgreSQL: COPY in a transaction, ADBC outside one): "
        "the three survivors are COPY's read_csv with schema inference on (infer_schema True, None or left out), "
        "which reads text such as '0042' as a number; the test added after (text that looks like a number stays "
        "its text) fails on that, checked by hand, not yet re-measured. _adbc_available's ImportError branch is "
        "reached by removing the driver from sys.modules."),
    "observatory/analytics/probe_frames.py": (
        "order_by without its pk tie-break differs only for two runs finishing at the same instant, which SQLite "
        "then returns in insertion order anyway (the one non-equivalent survivor)."),
    "observatory/analytics/rollups.py": (
        "none: the build, the record and the freshness run in PostgreSQL only, and the postgres tier "
        "(tests/analytics_postgres/test_rollup_refresh.py) reaches them; the fast tier reaches the reader."),
    "observatory/analytics/releases.py": "unique(keep='first') made keep='any': polars keeps the first row anyway "
                                         "single-threaded, so the difference is not observable in a test.",
    "observatory/analytics/derivatives.py": "unique(keep='first') made keep='any' (not observable, as for releases).",
    "observatory/analytics/finetunes.py": (
        "unique over (base, tracked) or keep='any' for the bases: equal results while each base has one tracked "
        "flag, which the loader gives (one HubModel per base id) but no constraint enforces."),
    "observatory/analytics/arrow_pool.py": (
        "an idle connection expiring at exactly idle_seconds ('>' made '>=') cannot be timed apart: the pool reads "
        "time.monotonic() itself, and no test lands a check on that very float. pool()'s ADBC connect (autocommit, "
        "the uri) is reached by the postgres tier (tests/analytics_postgres/test_frames_paths.py); the thread tests "
        "wait at most 3 s, so a pool that never hands a connection out fails them instead of timing out."),
    "observatory/exports/images.py": (
        "Everything after the Chromium check (starting kaleido's server, pio.to_image's arguments, the warning "
        "filter, stop_browser's flag) runs only with a real browser: the dashboards' browser tests render PNG/SVG/"
        "PDF, the fast tier does not. Only the slots, the format check and the missing-Chromium error are fast."),
    "ingest/lineage.py": (
        "LineageGraph.around's PostgreSQL branch (the recursive query) is not reached on SQLite; a batch step of "
        "501 with 500-id slices skips one id a slice, which a set's order may or may not expose; max_depth's "
        "default (32 vs 33) needs a 33-level stored chain."),
    "observatory/analytics/gap.py": "group_by without maintain_order and unique keep='any': polars keeps the "
                                    "order single-threaded, so not observable.",
}

# Other helpers' judgements live in files of their own, merged here when present, so that no two
# people edit one file: each may define EQUIVALENT (module -> entries, as above), SQL_MODULES and
# NOTES (module -> what its non-equivalent survivors are, shown in mutation.md).
EXTRA_FILES = ("mutation_equivalents_exports", "mutation_equivalents_readiness", "mutation_equivalents_postgres")


def _merge_extra_files() -> None:
    global SQL_MODULES
    import importlib.util
    from pathlib import Path

    for name in EXTRA_FILES:
        path = Path(__file__).with_name(name + ".py")
        if not path.exists():
            continue
        spec = importlib.util.spec_from_file_location(f"bench.{name}", path)
        extra = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(extra)
        for module, entries in getattr(extra, "EQUIVALENT", {}).items():
            EQUIVALENT.setdefault(module, []).extend(entries)
        SQL_MODULES = SQL_MODULES + tuple(getattr(extra, "SQL_MODULES", ()))
        SURVIVOR_NOTES.update(getattr(extra, "NOTES", {}))


_merge_extra_files()
