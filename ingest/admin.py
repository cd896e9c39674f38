from django.contrib import admin

from ingest.models import CrawlPlan


@admin.register(CrawlPlan)
class CrawlPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "enabled", "tracked_orgs", "top_n", "new_since_last_crawl", "lookup_unseen_tracked",
                    "updated_at")
    list_filter = ("enabled",)
