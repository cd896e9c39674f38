from django.contrib import admin
from django.urls import include, path

from observatory import site_assets
from observatory.labs.login import LoginView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before Django's auth URLs, so that this login view (where a login lands) answers /accounts/login/.
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("assets/<str:name>", site_assets.asset, name="site-asset"),
    path("", include("ingest.urls")),
    path("", include("gpu_workers.urls")),
    path("", include("observatory.labs.urls")),
    path("", include("observatory.dashboards.urls")),
    path("", include("observatory.feeds.urls")),
]
