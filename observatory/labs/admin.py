from django.contrib import admin

from observatory.labs.models import ApiToken, AuditEvent, Lab, Membership, Submission


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    # The digest is useless to show; tokens are created by members on their page (shown once there).
    list_display = ["name", "lab", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["lab"]
    fields = ["lab", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["lab", "name", "prefix", "created_by", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["pk", "hub_id", "resolved_revision", "pin_kind", "lab", "visibility", "created_at"]
    list_filter = ["lab", "visibility", "pin_kind"]
    search_fields = ["hub_id"]
    raw_id_fields = ["probe_runs", "token", "submitted_by"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "lab", "user", "token", "submission", "ip"]
    list_filter = ["action", "lab"]
    date_hierarchy = "at"

    # The log is evidence: readable in the admin, never edited there.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
