"""The read API's method guard: GET only, and any other method a JSON 405 naming what is allowed.

Django's require_GET answers an empty text/html 405, and without csrf_exempt an unsafe method
never gets that far: the CSRF middleware's HTML 403 answers first. A JSON client deserves a JSON
error it can parse, with the Allow header schemathesis' unsupported-method check expects.
"""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

ALLOWED = ("GET",)


def read_only_json(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method not in ALLOWED:
            response = JsonResponse({"error": f"method {request.method} not allowed here; use GET"}, status=405)
            response["Allow"] = ", ".join(ALLOWED)
            return response
        return view(request, *args, **kwargs)

    # Nothing it answers changes state, so there is nothing for CSRF to protect.
    return csrf_exempt(wrapper)
