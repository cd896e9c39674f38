from django.contrib import admin
from django.urls import include, path

from observatory import site_assets

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("assets/<str:name>", site_assets.asset, name="site-asset"),
    path("", include("ingest.urls")),
    path("", include("gpu_workers.urls")),
    path("", include("observatory.labs.urls")),
    path("", include("observatory.dashboards.urls")),
    path("", include("observatory.feeds.urls")),
]
