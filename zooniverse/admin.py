from django.contrib import admin

from .models import ZooniverseLink, ZooniverseSubject, ZooniverseWorkflow


@admin.register(ZooniverseLink)
class ZooniverseLinkAdmin(admin.ModelAdmin):
    """Links can be edited (project, workflow, pull interval) and removed; what was pulled stays."""

    list_display = [
        "workflow",
        "project_id",
        "zooniverse_workflow_id",
        "pull_every_minutes",
        "last_push_at",
        "last_pull_at",
    ]
    readonly_fields = [
        "last_push_at",
        "last_pull_at",
        "last_pull_requested_at",
        "busy_since",
        "busy_with",
        "created_at",
    ]


@admin.register(ZooniverseSubject)
class ZooniverseSubjectAdmin(admin.ModelAdmin):
    list_display = ["zooniverse_id", "cutout", "link"]
    raw_id_fields = ["cutout"]


@admin.register(ZooniverseWorkflow)
class ZooniverseWorkflowAdmin(admin.ModelAdmin):
    list_display = ["zooniverse_id", "display_name", "workflow"]
