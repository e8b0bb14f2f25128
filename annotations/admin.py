from django.contrib import admin

from .models import Classification, Cutout, SubjectSet, SubjectWorkflowStatus, Survey, Workflow, WorkflowVersion


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "telescope", "frequency_mhz", "beam_arcsec", "pixel_scale_arcsec"]


@admin.register(Cutout)
class CutoutAdmin(admin.ModelAdmin):
    list_display = ["name", "survey", "ra_deg", "dec_deg", "priority", "complexity", "synthetic"]
    list_filter = ["survey", "synthetic", "source_format"]
    search_fields = ["name"]


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["display_name", "version_label", "active", "prioritized"]


admin.site.register(WorkflowVersion)
admin.site.register(SubjectSet)


@admin.register(SubjectWorkflowStatus)
class SubjectWorkflowStatusAdmin(admin.ModelAdmin):
    list_display = ["subject", "workflow", "classification_count", "retired_at", "retirement_reason"]
    list_filter = ["workflow", "retirement_reason"]


@admin.register(Classification)
class ClassificationAdmin(admin.ModelAdmin):
    list_display = ["id", "workflow", "subject", "volunteer_key", "expert", "gold_standard", "created_at"]
    list_filter = ["workflow", "expert", "gold_standard"]
