"""The submission API: JSON over `Authorization: Bearer <token>`; no cookies, so no CSRF.

Every answer is JSON. Errors say what was wrong: 400 invalid (with one message per field), 401
no or bad token, 404 not this lab's (or no such) submission, 405 wrong method, 413 body too
large, 415 not JSON, 429 rate limit or quota, 503 the Hub, the rate-limit store (Redis) or the
task broker could not be reached (with Retry-After; it recovers by itself when they are back).
"""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from kombu.exceptions import OperationalError as BrokerUnreachable

from observatory.labs import audit, limits, pinning, submitting, tokens
from observatory.labs.models import AuditEvent, Submission
from observatory.labs.validation import MAX_BODY_BYTES, Invalid, parse_submission

MAX_ID = 2**62


def error(status: int, message: str, **extra) -> JsonResponse:
    response = JsonResponse({"error": message, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="observatory"'
    return response


def _too_many(exc: limits.LimitExceeded) -> JsonResponse:
    response = error(429, str(exc))
    response["Retry-After"] = str(max(1, exc.retry_after))
    return response


def _unavailable(message: str, retry_after: int = limits.Unavailable.retry_after) -> JsonResponse:
    response = error(503, message)
    response["Retry-After"] = str(retry_after)
    return response


def token_api(*methods: str):
    """Method check, bearer-token authentication and the per-token rate limit, in that order."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            # The caps are counted in Redis and runs are sent through it: without it the API cannot
            # keep its promises, so it says so (503) rather than failing open or answering 500.
            try:
                return checked(request, *args, **kwargs)
            except limits.Unavailable:
                return _unavailable("the rate-limit store (Redis) is unreachable; try again shortly")
            except BrokerUnreachable:
                return _unavailable("the task broker (Redis) is unreachable; try again shortly")

        def checked(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = error(405, f"method {request.method} not allowed here; use {', '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            header = request.META.get("HTTP_AUTHORIZATION", "")
            scheme, _, presented = header.partition(" ")
            if not header:
                return error(401, "authentication required: send 'Authorization: Bearer <token>'")
            token = tokens.authenticate(presented.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                try:
                    limits.hit(f"bad-token:ip:{audit.client_ip(request)}", 60)
                except limits.LimitExceeded as exc:
                    return _too_many(exc)
                revoked = tokens.find_revoked(presented.strip()) if scheme.lower() == "bearer" else None
                if revoked is not None:
                    audit.record(AuditEvent.Action.TOKEN_REFUSED, request=request, lab=revoked.lab, token=revoked,
                                 method=request.method, path=request.path[:200], reason="revoked")
                return error(401, "invalid, unknown or revoked token")
            try:
                limits.hit(f"api:token:{token.pk}", settings.LABS_API_REQUESTS_PER_MINUTE)
            except limits.LimitExceeded as exc:
                return _too_many(exc)
            audit.record_token_use(request, token)
            request.api_token = token
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _lab_submission(request, raw_id: str) -> Submission | None:
    if not raw_id.isascii() or not raw_id.isdigit() or int(raw_id) > MAX_ID:
        return None
    return Submission.objects.select_related("lab").filter(pk=int(raw_id), lab=request.api_token.lab).first()


def _read_json(request):
    content_type = request.content_type or ""
    if content_type != "application/json":
        return None, error(415, "send the body as JSON with 'Content-Type: application/json'")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return None, error(413, f"body too large (at most {MAX_BODY_BYTES} bytes)")
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        return None, error(413, f"body too large (at most {MAX_BODY_BYTES} bytes)")
    try:
        return json.loads(raw.decode("utf-8")), None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, error(400, f"body is not valid UTF-8 JSON: {str(exc)[:200]}")


@token_api("GET", "POST")
def submissions(request: HttpRequest):
    if request.method == "GET":
        return list_submissions(request)
    return create_submission(request)


def list_submissions(request):
    def bounded(name, default, low, high):
        raw = request.GET.get(name, str(default))
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}")
        return int(raw)

    try:
        limit = bounded("limit", 50, 1, 100)
        offset = bounded("offset", 0, 0, 1_000_000)
    except ValueError as exc:
        return error(400, str(exc))
    rows = Submission.objects.filter(lab=request.api_token.lab).select_related("lab").order_by("-created_at", "-pk")
    total = rows.count()
    page = [submitting.describe(s) for s in rows[offset:offset + limit]]
    return JsonResponse({"count": total, "limit": limit, "offset": offset, "results": page})


def create_submission(request):
    token = request.api_token
    data, problem = _read_json(request)
    if problem is not None:
        return problem
    try:
        req = parse_submission(data)
    except Invalid as exc:
        audit.record(AuditEvent.Action.SUBMISSION_REJECTED, request=request, lab=token.lab, token=token,
                     fields=sorted(exc.errors))
        return error(400, "invalid submission", errors=exc.errors)
    try:
        submission, created = submitting.submit(token.lab, req, token=token, request=request)
    except pinning.Refused as exc:
        audit.record(AuditEvent.Action.SUBMISSION_REJECTED, request=request, lab=token.lab, token=token,
                     fields=[exc.field])
        return error(exc.status, "submission refused", errors={exc.field: str(exc)})
    except limits.LimitExceeded as exc:
        audit.record(AuditEvent.Action.SUBMISSION_REJECTED, request=request, lab=token.lab, token=token,
                     fields=["limits"])
        return _too_many(exc)
    body = submitting.describe(submission)
    body["duplicate"] = not created
    return JsonResponse(body, status=201 if created else 200)


@token_api("GET")
def submission_detail(request, submission_id: str):
    submission = _lab_submission(request, submission_id)
    if submission is None:
        return error(404, "no such submission in your lab")
    return JsonResponse(submitting.describe(submission, with_results=True))


@token_api("POST")
def submission_cancel(request, submission_id: str):
    submission = _lab_submission(request, submission_id)
    if submission is None:
        return error(404, "no such submission in your lab")
    cancelled = submitting.cancel(submission, token=request.api_token, request=request)
    body = submitting.describe(submission)
    body["cancelled_runs"] = cancelled
    return JsonResponse(body)


@token_api("POST")
def submission_publish(request, submission_id: str):
    submission = _lab_submission(request, submission_id)
    if submission is None:
        return error(404, "no such submission in your lab")
    submitting.publish(submission, token=request.api_token, request=request)
    return JsonResponse(submitting.describe(submission))
