"""Lab pages (login required, the member's own lab only) and the public queue and profile pages."""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from observatory.labs import audit, limits, pinning, queue, submitting, tokens
from observatory.labs.forms import SubmissionForm, TokenForm
from observatory.labs.models import ApiToken, AuditEvent, Submission
from observatory.labs.validation import Invalid, parse_submission

MAX_ID = 2**62


def lab_member(view):
    """Login required, and the user must belong to a lab (request.lab: their first membership)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        membership = request.user.lab_memberships.select_related("lab").order_by("joined_at", "pk").first()
        if membership is None:
            return render(request, "labs/no_lab.html", status=403)
        request.lab = membership.lab
        return view(request, *args, **kwargs)

    return wrapped


def _own_submission(request, submission_id: int) -> Submission:
    if submission_id > MAX_ID:
        raise Http404
    submission = Submission.objects.select_related("lab").filter(pk=submission_id, lab=request.lab).first()
    if submission is None:
        raise Http404("no such submission in your lab")
    return submission


@require_GET
@lab_member
def dashboard(request):
    rows = [submitting.describe(s) for s in Submission.objects.filter(lab=request.lab).order_by("-created_at")[:100]]
    return render(request, "labs/dashboard.html", {"lab": request.lab, "submissions": rows})


@require_http_methods(["GET", "POST"])
@lab_member
def token_list(request):
    created_plain = None
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        row, created_plain = tokens.create_token(request.lab, form.cleaned_data["name"], request.user)
        audit.record(AuditEvent.Action.TOKEN_CREATED, request=request, lab=request.lab, token=row, name=row.name)
        form = TokenForm()
    rows = ApiToken.objects.filter(lab=request.lab).order_by("-created_at")
    return render(request, "labs/tokens.html", {"lab": request.lab, "tokens": rows, "form": form,
                                                "created_plain": created_plain})


@require_POST
@lab_member
def token_revoke(request, token_id: int):
    row = ApiToken.objects.filter(pk=token_id, lab=request.lab).first() if token_id <= MAX_ID else None
    if row is None:
        raise Http404("no such token in your lab")
    if tokens.revoke(row):
        audit.record(AuditEvent.Action.TOKEN_REVOKED, request=request, lab=request.lab, token=row, name=row.name)
        messages.info(request, f"Token {row.name!r} revoked.")
    return redirect("labs-tokens")


@require_http_methods(["GET", "POST"])
@lab_member
def submit(request):
    form = SubmissionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            req = parse_submission(form.as_request_data())
            submission, created = submitting.submit(request.lab, req, user=request.user, request=request)
        except Invalid as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        except pinning.Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        except (limits.LimitExceeded, limits.Unavailable) as exc:
            form.add_error(None, str(exc))
        else:
            if not created:
                messages.info(request, "This model version was already submitted with the same probes: "
                                       "here is that submission.")
            return redirect("labs-submission", submission_id=submission.pk)
        audit.record(AuditEvent.Action.SUBMISSION_REJECTED, request=request, lab=request.lab,
                     fields=sorted(form.errors))
    elif request.method == "POST":
        audit.record(AuditEvent.Action.SUBMISSION_REJECTED, request=request, lab=request.lab,
                     fields=sorted(form.errors))
    status = 400 if request.method == "POST" else 200
    return render(request, "labs/submit.html", {"lab": request.lab, "form": form}, status=status)


@require_GET
@lab_member
def submission_page(request, submission_id: int):
    submission = _own_submission(request, submission_id)
    return render(request, "labs/submission.html", {
        "lab": request.lab, "submission": submission, "state": submitting.describe(submission),
        "status_url": reverse("labs-submission-status", args=[submission.pk]),
    })


@require_GET
@lab_member
def submission_status(request, submission_id: int):
    submission = _own_submission(request, submission_id)
    return JsonResponse(submitting.describe(submission))


@require_POST
@lab_member
def submission_cancel(request, submission_id: int):
    submission = _own_submission(request, submission_id)
    count = submitting.cancel(submission, user=request.user, request=request)
    messages.info(request, f"Asked {count} run(s) to stop." if count else "Nothing left to cancel.")
    return redirect("labs-submission", submission_id=submission.pk)


@require_POST
@lab_member
def submission_publish(request, submission_id: int):
    submission = _own_submission(request, submission_id)
    submitting.publish(submission, user=request.user, request=request)
    messages.info(request, "Published: the profile is public now.")
    return redirect("labs-submission", submission_id=submission.pk)


@require_GET
@lab_member
def submission_artefacts(request, submission_id: int):
    submission = _own_submission(request, submission_id)
    return _artefacts_response(submission)


def _artefacts_response(submission: Submission) -> HttpResponse:
    body = json.dumps(submitting.artefacts(submission), indent=2, sort_keys=True, default=str)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="submission-{submission.pk}-artefacts.json"'
    return response


# --- Public pages ---------------------------------------------------------------------------------


def _public_submission(submission_id: int) -> Submission:
    if submission_id > MAX_ID:
        raise Http404
    submission = Submission.objects.select_related("lab").filter(
        pk=submission_id, visibility=Submission.Visibility.PUBLIC).first()
    if submission is None:
        raise Http404("no such public profile")
    return submission


@require_GET
def profile(request, submission_id: int):
    """The published profile of a submission: its runs and results, public only."""
    submission = _public_submission(submission_id)
    state = submitting.describe(submission, with_results=True)
    for run in state["runs"]:
        run["result_json"] = json.dumps(run["result"], indent=2, sort_keys=True, default=str) if run["result"] else ""
    return render(request, "labs/profile.html", {"submission": submission, "state": state})


@require_GET
def profile_artefacts(request, submission_id: int):
    return _artefacts_response(_public_submission(submission_id))


def _queue_context():
    rows = queue.snapshot()
    shown = [r for r in rows if r.public]
    return {
        "running": [r for r in shown if r.status == "running"],
        "waiting": [r for r in shown if r.status == "queued"],
        "hidden": len(rows) - len(shown),
    }


@require_GET
def queue_page(request):
    return render(request, "labs/queue.html", _queue_context())


@require_GET
def queue_json(request):
    context = _queue_context()

    def row(r):
        return {"probe_run": r.probe_run_id, "hub_id": r.hub_id, "probe": r.probe, "status": r.status,
                "position": r.position, "progress": r.progress, "current_step": r.current_step,
                "estimated_start": r.estimated_start.isoformat() if r.estimated_start else None}

    return JsonResponse({"running": [row(r) for r in context["running"]],
                         "waiting": [row(r) for r in context["waiting"]],
                         "private_not_shown": context["hidden"]})
