"""The Celery application: JSON only, three queues, late acks, one job at a time per slot."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")

app = Celery("observatory")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("crawl"), Queue("gpu"))
app.autodiscover_tasks()
