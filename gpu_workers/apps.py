from django.apps import AppConfig


class GpuWorkersConfig(AppConfig):
    name = "gpu_workers"
    verbose_name = "GPU workers: probe runs"

    def ready(self):
        # The release watch follows every crawl and import (their data_changed, once committed).
        from gpu_workers.watch import on_data_changed
        from observatory.catalog.runs import data_changed

        data_changed.connect(on_data_changed, dispatch_uid="gpu-workers-release-watch")
