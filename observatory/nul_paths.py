"""A URL path with a NUL byte names nothing: answer 404 before any view sees it.

PostgreSQL refuses NUL in a text parameter (psycopg raises "PostgreSQL text fields cannot contain
NUL (0x00) bytes"), so every view that looks a path parameter up would otherwise 500. One check
here covers every route, present and future, instead of a guard in each view.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse


class NulPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            if request.path_info.startswith("/api/"):
                return JsonResponse({"error": "not found"}, status=404)
            raise Http404("no such page")  # the site's ordinary HTML 404
        return self.get_response(request)
