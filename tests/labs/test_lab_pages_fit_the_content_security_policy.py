"""The lab pages hold nothing the Content-Security-Policy blocks: the submission page polls its
status from /assets/submission.js, reading the URL from a data attribute."""

import pytest

from tests.dashboards.test_content_security_policy import _inline_code

pytestmark = pytest.mark.django_db


def test_it_serves_the_lab_pages_with_no_inline_code(client, labs, make_submission):
    submission = make_submission(labs["a"], status="succeeded", public=True)
    client.force_login(labs["alice"])
    for path in ("/labs/", "/labs/submit/", "/labs/tokens/", f"/labs/submissions/{submission.pk}/",
                 f"/profiles/{submission.pk}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert _inline_code(response.content.decode()).found == [], path
    page = client.get(f"/labs/submissions/{submission.pk}/").content.decode()
    assert f'data-status-url="/labs/submissions/{submission.pk}/status.json"' in page
    assert '<script src="/assets/submission.js" defer></script>' in page
