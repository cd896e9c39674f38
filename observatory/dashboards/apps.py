from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "observatory.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards, exports and the read API"
