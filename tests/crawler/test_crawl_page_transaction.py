"""A crawl page is applied in a transaction whose commit does not wait for the disk, and only that one."""

import pytest
from django.db import connection

from ingest.hub.crawl import page_transaction
from observatory.catalog.models import Organization


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_page_transaction_commits_without_waiting_for_the_flush_and_no_other_does():
    assert synchronous_commit() == "on"
    with page_transaction():
        assert synchronous_commit() == "off"
        Organization.objects.create(namespace="page-org", display_name="page-org", region="unknown")
    assert synchronous_commit() == "on"
    assert Organization.objects.filter(namespace="page-org").exists()  # committed as any commit is
