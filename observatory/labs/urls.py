from django.urls import path

from observatory.labs import api, openapi, pages

urlpatterns = [
    path("api/submissions", api.submissions, name="api-submissions"),
    path("api/submissions/<str:submission_id>", api.submission_detail, name="api-submission"),
    path("api/submissions/<str:submission_id>/cancel", api.submission_cancel, name="api-submission-cancel"),
    path("api/submissions/<str:submission_id>/publish", api.submission_publish, name="api-submission-publish"),
    path("labs/", pages.dashboard, name="labs-dashboard"),
    path("labs/tokens/", pages.token_list, name="labs-tokens"),
    path("labs/tokens/<int:token_id>/revoke", pages.token_revoke, name="labs-token-revoke"),
    path("labs/submit/", pages.submit, name="labs-submit"),
    path("labs/submissions/<int:submission_id>/", pages.submission_page, name="labs-submission"),
    path("labs/submissions/<int:submission_id>/status.json", pages.submission_status, name="labs-submission-status"),
    path("labs/submissions/<int:submission_id>/cancel", pages.submission_cancel, name="labs-submission-cancel"),
    path("labs/submissions/<int:submission_id>/publish", pages.submission_publish, name="labs-submission-publish"),
    path("labs/submissions/<int:submission_id>/artefacts.json", pages.submission_artefacts,
         name="labs-submission-artefacts"),
    path("profiles/<int:submission_id>/", pages.profile, name="labs-profile"),
    path("profiles/<int:submission_id>/artefacts.json", pages.profile_artefacts, name="labs-profile-artefacts"),
    path("queue/", pages.queue_page, name="queue"),
    path("queue.json", pages.queue_json, name="queue-json"),
    path("api/labs/schema", openapi.schema_view, name="labs-openapi"),
]
