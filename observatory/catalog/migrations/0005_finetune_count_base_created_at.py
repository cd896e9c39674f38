from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0004_canonical_download_measures'),
    ]

    operations = [
        migrations.AddField(
            model_name='monthlyfinetunecount',
            name='base_created_at',
            field=models.DateTimeField(blank=True, help_text="The base's creation time as the series gives it (month 0)", null=True),
        ),
    ]
