"""Tokens are shown once and stored hashed; every page and endpoint is closed to outsiders, and a
refused request changes nothing (row counts before and after)."""

import hashlib

import pytest
from django.test import Client

from observatory.labs.models import ApiToken, AuditEvent
from observatory.labs.tokens import authenticate, digest
from tests.labs.conftest import Api, counts

pytestmark = pytest.mark.django_db


def test_it_shows_a_new_token_once_and_stores_only_a_keyed_hash(client, labs):
    client.force_login(labs["alice"])
    page = client.post("/labs/tokens/", {"name": "release CI"}).content.decode()
    row = ApiToken.objects.get(name="release CI")
    plain = page.split('<code id="token-value">')[1].split("</code>")[0]
    assert plain.startswith("omo_") and len(plain) == 47
    assert row.digest == digest(plain) and plain not in row.digest
    assert row.digest != hashlib.sha256(plain.encode()).hexdigest()  # keyed, not a bare hash
    assert plain not in str(ApiToken.objects.filter(pk=row.pk).values().get())
    again = client.get("/labs/tokens/").content.decode()
    assert plain not in again and row.prefix in again
    assert AuditEvent.objects.filter(action="token.created", token=row, user=labs["alice"]).exists()


def test_it_records_last_use_and_audits_it(api_a, tokens):
    assert tokens["row_a"].last_used_at is None
    assert api_a.get("/api/submissions").status_code == 200
    tokens["row_a"].refresh_from_db()
    assert tokens["row_a"].last_used_at is not None
    assert AuditEvent.objects.filter(action="token.used", token=tokens["row_a"]).count() == 1


def test_it_refuses_a_revoked_token_and_nothing_changes(client, labs, tokens, make_submission):
    mine = make_submission(labs["a"])
    client.force_login(labs["alice"])
    client.post(f"/labs/tokens/{tokens['row_a'].pk}/revoke")
    assert AuditEvent.objects.filter(action="token.revoked", token=tokens["row_a"]).exists()
    assert authenticate(tokens["a"]) is None
    before = counts()
    api = Api(Client(), tokens["a"])
    for response in (api.get("/api/submissions"), api.get(f"/api/submissions/{mine.pk}"),
                     api.post("/api/submissions", {"hub_id": "acme/model"}),
                     api.post(f"/api/submissions/{mine.pk}/cancel"), api.post(f"/api/submissions/{mine.pk}/publish")):
        assert response.status_code == 401, response.content
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert counts() == before
    assert AuditEvent.objects.filter(action="token.refused", token=tokens["row_a"]).count() == 5


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic YWxpY2U6eA==", "Bearer omo_" + "x" * 43,
                                    "Bearer not-a-token", "Token abc", "Bearer " + "A" * 5000, "bearer\x00omo_x"])
def test_it_refuses_missing_or_bogus_credentials_with_401(labs, make_submission, header):
    mine = make_submission(labs["a"])
    before = counts()
    client = Client()
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    for response in (client.get("/api/submissions", **extra),
                     client.post("/api/submissions", "{}", content_type="application/json", **extra),
                     client.get(f"/api/submissions/{mine.pk}", **extra),
                     client.post(f"/api/submissions/{mine.pk}/cancel", **extra),
                     client.post(f"/api/submissions/{mine.pk}/publish", **extra)):
        assert response.status_code == 401
        assert response.json()["error"]
    assert counts() == before


def test_it_hides_another_labs_submissions_from_the_api_and_changes_nothing(api_b, labs, make_submission):
    private = make_submission(labs["a"], status="running", progress=0.4)
    public = make_submission(labs["a"], hub_id="acme/public-one", public=True)
    before = counts()
    listing = api_b.get("/api/submissions").json()
    assert listing["count"] == 0 and listing["results"] == []
    for submission in (private, public):
        for response in (api_b.get(f"/api/submissions/{submission.pk}"),
                         api_b.post(f"/api/submissions/{submission.pk}/cancel"),
                         api_b.post(f"/api/submissions/{submission.pk}/publish")):
            assert response.status_code == 404
    assert counts() == before
    private.refresh_from_db()
    assert private.visibility == "private"


def test_it_hides_another_labs_pages_and_tokens(client, labs, tokens, make_submission):
    theirs = make_submission(labs["a"])
    client.force_login(labs["bob"])
    before = counts()
    for path in (f"/labs/submissions/{theirs.pk}/", f"/labs/submissions/{theirs.pk}/status.json",
                 f"/labs/submissions/{theirs.pk}/artefacts.json", f"/profiles/{theirs.pk}/"):
        assert client.get(path).status_code == 404, path
    for path in (f"/labs/submissions/{theirs.pk}/cancel", f"/labs/submissions/{theirs.pk}/publish",
                 f"/labs/tokens/{tokens['row_a'].pk}/revoke"):
        assert client.post(path).status_code == 404, path
    page = client.get("/labs/tokens/").content.decode()
    assert tokens["row_a"].prefix not in page and tokens["row_b"].prefix in page
    assert "acme/model-1" not in client.get("/labs/").content.decode()
    assert counts() == before


def test_it_sends_anonymous_visitors_to_log_in_and_refuses_users_without_a_lab(client, labs, make_submission):
    mine = make_submission(labs["a"])
    before = counts()
    for path in ("/labs/", "/labs/tokens/", "/labs/submit/", f"/labs/submissions/{mine.pk}/",
                 f"/labs/submissions/{mine.pk}/status.json"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    assert client.post("/labs/submit/", {"hub_id": "acme/model"}).status_code == 302
    client.force_login(labs["carol"])
    assert client.get("/labs/").status_code == 403
    assert client.post("/labs/tokens/", {"name": "sneaky"}).status_code == 403
    assert client.get(f"/labs/submissions/{mine.pk}/").status_code == 403
    assert counts() == before


def test_it_requires_a_csrf_token_on_every_form(labs, tokens, make_submission):
    mine = make_submission(labs["a"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(labs["alice"])
    before = counts()
    for path, data in (("/labs/tokens/", {"name": "x"}), (f"/labs/tokens/{tokens['row_a'].pk}/revoke", {}),
                       ("/labs/submit/", {"hub_id": "acme/model", "probes": ["tooling"], "visibility": "private"}),
                       (f"/labs/submissions/{mine.pk}/cancel", {}), (f"/labs/submissions/{mine.pk}/publish", {})):
        assert client.post(path, data).status_code == 403, path
    assert counts() == before


def test_it_shows_a_public_profile_only_once_published(client, labs, make_submission):
    done = make_submission(labs["a"], status="succeeded", progress=1.0)
    assert client.get(f"/profiles/{done.pk}/").status_code == 404
    done.visibility = "public"
    done.save()
    page = client.get(f"/profiles/{done.pk}/").content.decode()
    assert "acme/model-1" in page and "1234" in page  # the recorded seed from the result record
    artefacts = client.get(f"/profiles/{done.pk}/artefacts.json")
    assert artefacts["Content-Disposition"].startswith("attachment")
    assert artefacts.json()["runs"][0]["result"]["seed"] == 1234


@pytest.mark.parametrize("path", ["/api/submissions/99999999999999999999999", "/api/submissions/-1",
                                  "/api/submissions/1e3", "/api/submissions/%00", "/api/submissions/٣"])
def test_it_answers_404_for_ids_that_are_not_ids(api_a, path):
    assert api_a.get(path).status_code == 404
    assert api_a.post(path + "/cancel").status_code == 404


def test_it_answers_405_in_json_for_the_wrong_method(api_a):
    response = api_a.client.delete("/api/submissions", HTTP_AUTHORIZATION=f"Bearer {api_a.token}")
    assert response.status_code == 405 and "POST" in response["Allow"]
    assert api_a.get("/api/submissions/1/cancel").status_code == 405


@pytest.mark.parametrize("name", ["", "   ", "ci\x00", "x" * 81, "line\nbreak", "evil\u202eexe"])
def test_it_refuses_bad_token_names_and_creates_none(client, labs, name):
    client.force_login(labs["alice"])
    before = ApiToken.objects.count()
    response = client.post("/labs/tokens/", {"name": name})
    assert response.status_code == 200 and 'class="errorlist' in response.content.decode()
    assert 'id="token-value"' not in response.content.decode()
    assert ApiToken.objects.count() == before


def test_it_shows_the_audit_log_read_only_in_the_admin(client, labs, tokens, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(admin)
    assert "audited (" not in client.get("/admin/labs/auditevent/").content.decode()
    client.force_login(labs["alice"])
    client.post("/labs/tokens/", {"name": "audited"})
    client.force_login(admin)
    assert "audited (" in client.get("/admin/labs/auditevent/").content.decode()
    event = AuditEvent.objects.get(action="token.created")
    assert client.get(f"/admin/labs/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/labs/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert client.get("/admin/labs/lab/").status_code == 200 and client.get("/admin/labs/submission/").status_code == 200
