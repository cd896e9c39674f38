from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "observatory.labs"
    label = "labs"
    verbose_name = "Lab submissions"

    def ready(self) -> None:
        from gpu_workers import hub_tokens
        from observatory.labs import login_audit, signals  # noqa: F401  (connect their receivers)
        from observatory.labs.access_tokens import hub_token_for

        # A gated model's run downloads with the lab's own token; gpu_workers asks through this
        # hook rather than importing the labs app above it.
        hub_tokens.provide(hub_token_for)
