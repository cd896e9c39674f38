"""Labs, their members and API tokens, their submissions, and the audit log.

A submission asks for one or more probes on one model revision; each probe is a gpu_workers
ProbeRun (whose catalog Run holds the lifecycle). The lab owns the submission; private runs are
shown to nobody else until the lab publishes them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Lab(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="labs")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        ADMIN = "admin", "Admin"

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lab", "user"], name="labs_one_membership_per_lab")]

    def __str__(self) -> str:
        return f"{self.user} in {self.lab}"


class ApiToken(models.Model):
    """A bearer token for the submission API. Only its keyed hash is stored; the token is shown once."""

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="tokens")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise the token")
    digest = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256 of the token")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Submission(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private to the lab until published"
        PUBLIC = "public", "Public"

    class PinKind(models.TextChoices):
        HUB_COMMIT = "hub-commit", "Hub commit sha"
        LOCAL_SHA256 = "local-sha256", "SHA-256 of the locally registered weights"

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="submissions")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions")
    hub_id = models.CharField(max_length=96 * 2 + 1)
    revision = models.CharField(max_length=200, blank=True, help_text="As asked")
    resolved_revision = models.CharField(max_length=64, help_text="The commit (or content hash) it was pinned to")
    pin_kind = models.CharField(max_length=16, choices=PinKind.choices)
    probes = models.JSONField(default=list)
    config_hash = models.CharField(max_length=64, help_text="Hash of the probes and their configs")
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE)
    published_at = models.DateTimeField(null=True, blank=True)
    gated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    probe_runs = models.ManyToManyField("gpu_workers.ProbeRun", related_name="submissions")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lab", "hub_id", "resolved_revision", "config_hash"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.hub_id}@{self.resolved_revision[:12]} ({self.lab})"

    @property
    def public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC


class RunAccessToken(models.Model):
    """A gated model's Hub token, Fernet-encrypted, for one probe run; deleted when that run ends."""

    probe_run = models.OneToOneField("gpu_workers.ProbeRun", on_delete=models.CASCADE, related_name="access_token")
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        SUBMISSION_CREATED = "submission.created", "Submission created"
        SUBMISSION_DUPLICATE = "submission.duplicate", "Duplicate submission (existing returned)"
        SUBMISSION_REJECTED = "submission.rejected", "Submission rejected"
        SUBMISSION_CANCELLED = "submission.cancelled", "Submission cancelled"
        SUBMISSION_PUBLISHED = "submission.published", "Submission published"
        TOKEN_CREATED = "token.created", "Token created"
        TOKEN_REVOKED = "token.revoked", "Token revoked"
        TOKEN_USED = "token.used", "Token used"
        TOKEN_REFUSED = "token.refused", "Token refused"
        LOGIN_FAILED = "login.failed", "Login failed (wrong credentials)"
        LOGIN_REFUSED = "login.refused", "Login refused (account or address locked out)"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    lab = models.ForeignKey(Lab, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    submission = models.ForeignKey(Submission, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="audit_events")
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action}"
