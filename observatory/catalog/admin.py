from django import forms
from django.contrib import admin

from ingest.identity import relink_edges
from observatory import vocab
from observatory.catalog import models


@admin.register(models.Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["namespace", "display_name", "region", "region_source"]
    list_filter = ["region", "region_source"]
    search_fields = ["namespace", "display_name"]
    list_editable = ["region"]

    def save_model(self, request, obj, form, change):
        if "region" in form.changed_data:
            obj.region_source = "admin"
        super().save_model(request, obj, form, change)


@admin.register(models.HubModel)
class HubModelAdmin(admin.ModelAdmin):
    list_display = ["hub_id", "organization", "release_date", "pipeline_tag", "licence_id", "licence_class",
                    "size_class", "downloads_all_time", "tracked"]
    list_filter = ["tracked", "licence_class", "size_class", "pipeline_tag", "organization__region"]
    search_fields = ["hub_id"]
    raw_id_fields = ["organization"]
    readonly_fields = ["first_seen_at", "last_seen_at"]

    def save_model(self, request, obj, form, change):
        # Curation in the admin wins over later imports; record where the value came from.
        if "release_date" in form.changed_data:
            obj.release_date_source = "admin"
        if {"total_params", "active_params"} & set(form.changed_data):
            obj.params_source = "admin"
        super().save_model(request, obj, form, change)


class ModelAliasForm(forms.ModelForm):
    class Meta:
        model = models.ModelAlias
        fields = ["old_hub_id", "hub_id", "evidence"]

    def _hub_id(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip()
        if not vocab.is_hub_id(value, legacy=True):
            raise forms.ValidationError(f"not a Hub id: {vocab.HUB_ID_DESCRIPTION}")
        return value

    def clean_old_hub_id(self):
        return self._hub_id("old_hub_id")

    def clean_hub_id(self):
        return self._hub_id("hub_id")

    def clean(self):
        data = super().clean()
        old, current = data.get("old_hub_id"), data.get("hub_id")
        if old and current and vocab.hub_id_key(old) == vocab.hub_id_key(current):
            raise forms.ValidationError("an alias names another id: these two are one id (letter case aside)")
        return data


@admin.register(models.ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    """Renamed repos: old name → current id. Saving one re-resolves the stored edges."""

    form = ModelAliasForm
    list_display = ["old_hub_id", "hub_id", "model", "source", "seen_at"]
    list_filter = ["source"]
    search_fields = ["old_hub_id", "hub_id", "evidence"]
    readonly_fields = ["model", "source", "seen_at"]

    def save_model(self, request, obj, form, change):
        obj.source = models.ModelAlias.Source.ADMIN  # curated here: imports and crawls keep it
        super().save_model(request, obj, form, change)
        counts = relink_edges()
        self.message_user(request, f"Edges re-resolved: {counts['renamed']} renamed, {counts['duplicates']} merged, "
                                   f"{counts['self_edges']} self-edges rejected, {counts['linked']} linked.")


@admin.register(models.DownloadSnapshot)
class DownloadSnapshotAdmin(admin.ModelAdmin):
    list_display = ["model", "date", "downloads", "downloads_all_time", "likes", "source"]
    list_filter = ["source"]
    search_fields = ["model__hub_id"]
    raw_id_fields = ["model"]
    date_hierarchy = "date"


@admin.register(models.LineageEdge)
class LineageEdgeAdmin(admin.ModelAdmin):
    list_display = ["child", "relation", "parent_hub_id", "parent", "source"]
    list_filter = ["relation", "source"]
    search_fields = ["child__hub_id", "parent_hub_id"]
    raw_id_fields = ["child", "parent"]


@admin.register(models.MonthlyFinetuneCount)
class MonthlyFinetuneCountAdmin(admin.ModelAdmin):
    list_display = ["base_hub_id", "months_since_creation", "cumulative_count"]
    search_fields = ["base_hub_id"]
    raw_id_fields = ["model"]


@admin.register(models.LeaderboardEntry)
class LeaderboardEntryAdmin(admin.ModelAdmin):
    list_display = ["source", "benchmark", "model_name", "score", "open_weights", "release_date", "snapshot_date"]
    list_filter = ["source", "open_weights", "benchmark"]
    search_fields = ["model_name", "organization"]
    raw_id_fields = ["hub_model"]


@admin.register(models.Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "name", "status", "progress", "created_at", "started_at", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "error"]
    readonly_fields = ["created_at"]


@admin.register(models.QuarantinedRecord)
class QuarantinedRecordAdmin(admin.ModelAdmin):
    list_display = ["record_key", "source", "run", "created_at"]
    list_filter = ["source"]
    search_fields = ["record_key", "reason"]
    raw_id_fields = ["run"]


@admin.register(models.ParameterCount)
class ParameterCountAdmin(admin.ModelAdmin):
    list_display = ["hub_id", "total_params_b", "active_params_b", "is_moe", "source"]
    search_fields = ["hub_id"]

    def save_model(self, request, obj, form, change):
        obj.source = "admin"
        super().save_model(request, obj, form, change)


@admin.register(models.ReleaseDateCorrection)
class ReleaseDateCorrectionAdmin(admin.ModelAdmin):
    list_display = ["hub_id", "hf_created_at", "actual_release_date", "source"]
    search_fields = ["hub_id"]

    def save_model(self, request, obj, form, change):
        obj.source = "admin"
        super().save_model(request, obj, form, change)


@admin.register(models.TrackedListEntry)
class TrackedListEntryAdmin(admin.ModelAdmin):
    list_display = ["hub_id", "list_name", "org"]
    list_filter = ["list_name"]
    search_fields = ["hub_id"]


@admin.register(models.TrackingPolicy)
class TrackingPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "imported_at"]
