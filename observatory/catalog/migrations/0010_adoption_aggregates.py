from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0009_snapshot_crawl_model_date"),
    ]

    operations = []
