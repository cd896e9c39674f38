"""The login view: without ?next=, a lab member lands on the lab's submissions, anyone else on home.

Django's own view sends every login to one LOGIN_REDIRECT_URL; a user in no lab would then land
on the labs dashboard's "not a member" page (a 403), which is no place to start from.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.shortcuts import resolve_url


class LoginView(auth_views.LoginView):
    def get_default_redirect_url(self):
        # The user is the one just authenticated (form_valid logged them in before redirecting).
        in_a_lab = self.request.user.lab_memberships.exists()
        return resolve_url("labs-dashboard" if in_a_lab else "home")
