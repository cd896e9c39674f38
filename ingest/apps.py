from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "ingest"
    verbose_name = "Ingest: imports and Hub crawls"

    def ready(self) -> None:
        # The crawl's tasks live in ingest/hub/tasks.py, which Celery's autodiscovery (it imports
        # <app>.tasks) does not find; registered here, in every process, also because crawl.py
        # sends its pages by task name.
        from ingest.hub import tasks  # noqa: F401
