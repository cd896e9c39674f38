from django.contrib import admin, messages

from gpu_workers import services, watch_policy
from gpu_workers.models import ProbeRun, WatchPolicy


@admin.register(ProbeRun)
class ProbeRunAdmin(admin.ModelAdmin):
    list_display = ["id", "hub_id", "probe", "status", "progress", "attempts", "resends", "public", "created"]
    list_filter = ["probe", "run__status", "public"]
    search_fields = ["hub_id", "config_hash"]
    raw_id_fields = ["run", "model"]
    readonly_fields = ["config_hash", "result", "attempts", "sent_at", "resends"]
    actions = ["cancel_runs", "requeue_runs"]

    @admin.display(ordering="run__status")
    def status(self, obj):
        return obj.run.status

    def progress(self, obj):
        return f"{obj.run.progress:.0%} {obj.run.current_step}"

    @admin.display(ordering="run__created_at")
    def created(self, obj):
        return obj.run.created_at

    @admin.action(description="Cancel selected runs")
    def cancel_runs(self, request, queryset):
        count = sum(services.cancel(p) for p in queryset.select_related("run"))
        self.message_user(request, f"cancelled {count} run(s)", messages.SUCCESS)

    @admin.action(description="Run again (new runs with the same model, probe and config)")
    def requeue_runs(self, request, queryset):
        for p in queryset:
            fresh = services.create_probe_run(p.hub_id, p.probe, revision=p.revision, config=p.config,
                                              public=p.public, budget_seconds=p.budget_seconds)
            services.enqueue(fresh)
        self.message_user(request, f"queued {queryset.count()} new run(s)", messages.SUCCESS)


@admin.register(WatchPolicy)
class WatchPolicyAdmin(admin.ModelAdmin):
    """One policy: the add form starts from the WATCH_* settings in force; each field's check
    (gpu_workers.watch_policy) names what is wrong, and a refused form saves nothing."""

    list_display = ["__str__", "priority", "max_per_day", "max_params_b", "max_age_days", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not WatchPolicy.objects.exists()

    def get_changeform_initial_data(self, request):
        current = watch_policy.from_settings()
        return {"probes": list(current.probes), "max_per_day": current.max_per_day,
                "max_params_b": current.max_params_b, "max_age_days": current.max_age_days,
                "priority": current.priority, "probe_config": current.overrides, "public_sets": current.public_sets}
