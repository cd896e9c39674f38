from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "observatory.labs"
    label = "labs"
    verbose_name = "Lab submissions"

    def ready(self) -> None:
        from observatory.labs import login_audit, signals  # noqa: F401  (connect their receivers)
