from django.urls import path

from observatory.feeds import views

urlpatterns = [
    path("feeds/releases.atom", views.ReleasesFeed(), name="feed-releases"),
    path("feeds/releases.json", views.ReleasesJSONFeed(), name="feed-releases-json"),
    # <str:…> takes any one path segment; the feed answers 404 for what is not a Hub namespace.
    path("feeds/orgs/<str:namespace>/releases.atom", views.OrganizationReleasesFeed(), name="feed-org-releases"),
    path("feeds/orgs/<str:namespace>/releases.json", views.OrganizationReleasesJSONFeed(),
         name="feed-org-releases-json"),
    path("feeds/events.atom", views.EventsFeed(), name="feed-events"),
    path("feeds/events.json", views.EventsJSONFeed(), name="feed-events-json"),
]
