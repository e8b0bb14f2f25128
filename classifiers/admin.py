from django.contrib import admin

from .models import ClassifierTask, ModelVersion


@admin.register(ClassifierTask)
class ClassifierTaskAdmin(admin.ModelAdmin):
    list_display = ["name", "survey", "workflow", "question", "classes", "retrain_after_new_labels"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["task", "number", "status", "method", "label_source", "created_at", "promoted_at"]
    list_filter = ["status", "task"]
    readonly_fields = ["status", "metrics", "history", "training_data", "config", "weights", "promoted_at"]
