from django.urls import path

from ingest import views

urlpatterns = [
    path("api/models/<str:org>/<str:name>", views.model_api, name="api-model"),
    path("status/", views.status_page, name="status"),
]
