# Lineage identity: an alias keeps its current id as text (known before the model is stored),
# says where the rename was seen, and matches old names case-insensitively; Hub ids are looked up
# on lower(hub_id).

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models


def current_ids_from_models(apps, schema_editor):
    ModelAlias = apps.get_model("catalog", "ModelAlias")
    for alias in ModelAlias.objects.select_related("model"):
        alias.hub_id = alias.model.hub_id
        alias.source = "hub-redirect"  # every alias so far came from a crawl's 307
        alias.save(update_fields=["hub_id", "source"])


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0005_finetune_count_base_created_at"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="modelalias",
            options={"ordering": ["old_hub_id"], "verbose_name_plural": "model aliases"},
        ),
        migrations.AddField(
            model_name="modelalias",
            name="hub_id",
            field=models.CharField(default="", help_text="The current id it resolves to", max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="modelalias",
            name="source",
            field=models.CharField(
                choices=[("hub-redirect", "The Hub answered the old name with a redirect"),
                         ("hub-resolution", "The Hub resolved a card's base_model to another id"),
                         ("admin", "Curated in the admin")],
                default="admin", max_length=16),
        ),
        migrations.AddField(
            model_name="modelalias",
            name="evidence",
            field=models.CharField(blank=True, help_text="Where the rename was seen", max_length=300),
        ),
        migrations.AlterField(
            model_name="modelalias",
            name="model",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="aliases", to="catalog.hubmodel"),
        ),
        migrations.RunPython(current_ids_from_models, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="modelalias",
            name="old_hub_id",
            field=models.CharField(help_text="The old name, as it was spelled", max_length=200),
        ),
        migrations.AddConstraint(
            model_name="modelalias",
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower("old_hub_id"),
                                               name="modelalias_one_per_old_name"),
        ),
        migrations.AddIndex(
            model_name="hubmodel",
            index=models.Index(django.db.models.functions.text.Lower("hub_id"), name="hubmodel_hub_id_lower"),
        ),
    ]
