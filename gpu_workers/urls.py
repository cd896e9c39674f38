from django.urls import path

from gpu_workers import views

urlpatterns = [
    path("api/probe-runs/<int:pk>", views.probe_run_status, name="probe-run-status"),
]
