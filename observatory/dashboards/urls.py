from django.urls import path

from observatory.dashboards import views

urlpatterns = [
    path("", views.home, name="home"),
    path("api/stats", views.stats, name="api-stats"),
    path("static-js/plotly.min.js", views.plotly_js, name="plotly-js"),
]
