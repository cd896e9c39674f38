from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0010_adoption_aggregates"),
    ]

    operations = []
