"""Delete a gated run's access token as soon as its run row is saved in an ended state.

Status changes made with queryset.update() send no signal; tasks.purge_spent_access_tokens
sweeps those up, and access_tokens.hub_token_for never hands out an ended run's token.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from observatory.catalog.models import Run


@receiver(post_save, sender=Run, dispatch_uid="labs-purge-access-token")
def purge_access_token_when_run_ends(sender, instance: Run, **kwargs) -> None:
    from observatory.labs.access_tokens import ENDED
    from observatory.labs.models import RunAccessToken

    if instance.status in ENDED and instance.kind == Run.Kind.PROBE:
        RunAccessToken.objects.filter(probe_run__run_id=instance.pk).delete()
