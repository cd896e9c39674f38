from django.apps import AppConfig


def fold_rollups(sender, **kwargs) -> None:
    """Every data-version bump first folds what the writes since the last one touched into the
    analytics rollups (rollups.refresh; a full recount is `manage.py rebuild_rollups`)."""
    from observatory.analytics import rollups

    rollups.refresh()


def warm_new_version(sender, version: int, **kwargs) -> bool:
    """catalog.runs.version_pending: queue the warm that publishes `version` (dashboards.warming).
    False (publish at once, unwarmed) when the broker cannot take it: new data must not wait on it."""
    from kombu.exceptions import OperationalError as BrokerUnavailable

    from observatory.dashboards.tasks import warm_data_version

    try:
        warm_data_version.delay(version)
    except BrokerUnavailable:
        return False
    return True


def ram_priority(model) -> float:
    """The release watch's WATCH_PRIORITY=ram: the highest relative adoption (v2) first."""
    from observatory.dashboards.model_ram import model_ram

    return -(model_ram(model)["ram_v2"] or 0.0)


class DashboardsConfig(AppConfig):
    name = "observatory.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards, exports and the read API"

    def ready(self) -> None:
        # The catalog announces new data with a signal; the layer above it (analytics, read by
        # the dashboards) listens, so observatory.catalog imports nothing from it.
        from observatory.catalog.runs import data_changed

        data_changed.connect(fold_rollups, dispatch_uid="dashboards-fold-rollups")
        # The count aggregates fold in the rollup's transaction (analytics.counts).
        from observatory.analytics import counts, rollups

        rollups.register_fold(counts.NAME, counts.fold)
        # So does the data-quality ledger (analytics.quality registers it on import: imported here,
        # a process that refreshes without drawing a chart, e.g. rebuild_rollups, folds it too).
        from observatory.analytics import quality  # noqa: F401

        # Then pages keep the old version until the cache is warm for the new one.
        from observatory.catalog.runs import version_pending

        version_pending.connect(warm_new_version, dispatch_uid="dashboards-warm-new-version")
        # RAM is computed here, above gpu_workers: the watch gets it as a registered reader.
        from gpu_workers.watch import PRIORITY_READERS

        PRIORITY_READERS["ram"] = ram_priority
