from celery import shared_task

from observatory.labs.access_tokens import purge_ended


@shared_task(ignore_result=True)
def purge_spent_access_tokens() -> int:
    """Sweep up access tokens of runs that ended by a plain UPDATE (no post_save signal)."""
    return purge_ended()
