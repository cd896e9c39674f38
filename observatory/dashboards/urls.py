from django.urls import path

from observatory.dashboards import api, chart_views, data_quality, family_views, openapi, pages, views

urlpatterns = [
    path("", views.home, name="home"),
    path("api/stats", views.stats, name="api-stats"),
    path("static-js/plotly.min.js", views.plotly_js, name="plotly-js"),
    path("dashboards/<slug:name>", chart_views.dashboard, name="dashboard"),
    path("embed/<slug:name>", chart_views.embed, name="embed"),
    path("charts/<slug:name>.<str:fmt>", chart_views.chart_image, name="chart-image"),
    # <str:…> so an unknown name gets the endpoint's JSON 404, not the site's HTML one.
    path("api/metrics/<str:name>", chart_views.metric_api, name="api-metric"),
    path("api/models", api.models_list, name="api-models"),
    path("api/organizations", api.organizations_list, name="api-organizations"),
    path("api/lineage", api.lineage, name="api-lineage"),
    path("api/snapshots", api.snapshots, name="api-snapshots"),
    path("api/families/<str:org>/<str:name>", family_views.family_api, name="api-family"),
    path("families/<str:org>/<str:name>", family_views.family_page, name="family"),
    path("families/<str:org>/<str:name>/<slug:chart>.<str:fmt>", family_views.family_image, name="family-image"),
    path("api/schema", openapi.schema, name="api-schema"),
    path("methodology", pages.methodology, name="methodology"),
    path("data-quality", data_quality.page, name="data-quality"),
    path("api/data-quality", data_quality.api, name="api-data-quality"),
    path("models/<str:org>/<str:name>", pages.model_card, name="model-card"),
    path("orgs/<str:namespace>", pages.organization, name="organization"),
]
