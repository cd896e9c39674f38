"""Logging in without ?next= lands on a real page: a lab member on the lab's submissions (the labs
dashboard), a user in no lab on home (not the labs dashboard's "not a member" 403, nor
/accounts/profile/, a 404)."""

import pytest

pytestmark = pytest.mark.django_db


def test_it_lands_a_lab_member_on_the_labs_dashboard(client, labs):
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"}, follow=True)
    assert response.redirect_chain == [("/labs/", 302)]
    assert response.status_code == 200
    assert "Lab A" in response.content.decode()


def test_it_lands_a_user_in_no_lab_on_home(client, labs):
    response = client.post("/accounts/login/", {"username": "carol", "password": "carol-pass-123"}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert response.status_code == 200
    assert "You are not a member of any lab" not in response.content.decode()
    assert response.wsgi_request.user.username == "carol"


def test_it_still_honours_a_safe_next(client, labs):
    response = client.post("/accounts/login/?next=/queue/", {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 302 and response["Location"] == "/queue/"


def test_it_still_refuses_an_unsafe_next(client, labs):
    response = client.post("/accounts/login/?next=https://evil.example/", {"username": "carol", "password": "carol-pass-123"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_wrong_password_stays_on_the_login_form(client, labs):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
