"""Logging in without ?next= lands on a real page: the labs dashboard, not /accounts/profile/ (a 404)."""

import pytest

pytestmark = pytest.mark.django_db


def test_it_lands_a_lab_member_on_the_labs_dashboard(client, labs):
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"}, follow=True)
    assert response.redirect_chain == [("/labs/", 302)]
    assert response.status_code == 200
    assert "Lab A" in response.content.decode()


def test_it_lands_a_user_in_no_lab_on_the_page_that_says_so(client, labs):
    response = client.post("/accounts/login/", {"username": "carol", "password": "carol-pass-123"}, follow=True)
    assert response.redirect_chain == [("/labs/", 302)]
    assert "You are not a member of any lab" in response.content.decode()


def test_it_still_honours_a_safe_next(client, labs):
    response = client.post("/accounts/login/?next=/queue/", {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 302 and response["Location"] == "/queue/"
