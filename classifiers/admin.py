from django.contrib import admin

from .models import ActiveLoop, ClassifierTask, FeatureEncoder, ModelVersion


@admin.register(ClassifierTask)
class ClassifierTaskAdmin(admin.ModelAdmin):
    list_display = ["name", "survey", "workflow", "question", "classes", "retrain_after_new_labels"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "task",
        "number",
        "status",
        "method",
        "label_source",
        "warm_start_from",
        "created_at",
        "promoted_at",
    ]
    list_filter = ["status", "task"]
    readonly_fields = ["status", "metrics", "history", "training_data", "config", "weights", "promoted_at"]


@admin.register(ActiveLoop)
class ActiveLoopAdmin(admin.ModelAdmin):
    """A survey's own threshold of the active-learning loop (empty: RGZ_ACTIVE_RETRAIN_AFTER)."""

    list_display = ["survey", "retrain_after", "updated_at"]


@admin.register(FeatureEncoder)
class FeatureEncoderAdmin(admin.ModelAdmin):
    """A survey's self-supervised encoders (trained by `train_encoder`); activation is the job's."""

    list_display = ["survey", "number", "status", "feature_version", "created_at", "finished_at"]
    list_filter = ["status", "survey"]
    readonly_fields = ["status", "feature_version", "config", "weights", "loss_history", "job", "error", "finished_at"]
