from django.apps import AppConfig


def rebuild_rollups(sender, **kwargs) -> None:
    """Every data-version bump rebuilds the analytics rollups first, if their sources changed."""
    from observatory.analytics import rollups

    rollups.refresh()


class DashboardsConfig(AppConfig):
    name = "observatory.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards, exports and the read API"

    def ready(self) -> None:
        # The catalog announces new data with a signal; the layer above it (analytics, read by
        # the dashboards) listens, so observatory.catalog imports nothing from it.
        from observatory.catalog.runs import data_changed

        data_changed.connect(rebuild_rollups, dispatch_uid="dashboards-rebuild-rollups")
