"""Generator versions per survey (the generator registry) and the samples they render."""

from django.conf import settings
from django.db import models

from annotations.models import Cutout, Survey


class GeneratorVersion(models.Model):
    """One training of the class-conditional diffusion generator on a survey's labelled cutouts.

    Exactly one version per survey may be active: the one ``generate`` samples from. A version is
    promoted only once its training ended and it was evaluated.
    """

    class Status(models.TextChoices):
        TRAINING = "training"
        READY = "ready"
        FAILED = "failed"
        ACTIVE = "active"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="generator_versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    preset = models.CharField(max_length=20, default="cpu")
    config = models.JSONField(default=dict)  # mlcore.generative.config.DiffusionConfig.as_dict()
    classes = models.JSONField(default=list)  # class labels in class-index order
    # Cutout ids used: {"train": [...], "test": [...]} and the label of each.
    training_data = models.JSONField(default=dict, blank=True)
    history = models.JSONField(default=list, blank=True)  # one row per epoch: loss, seconds
    metrics = models.JSONField(default=dict, blank=True)
    weights = models.FileField(upload_to="generative/weights/", max_length=255, blank=True)
    sample_grid = models.FileField(upload_to="generative/grids/", max_length=255, blank=True)
    # the evaluation's pictures: source properties of samples against held-out cutouts, and the loss per epoch
    properties_plot = models.FileField(upload_to="generative/plots/", max_length=255, blank=True)
    loss_plot = models.FileField(upload_to="generative/plots/", max_length=255, blank=True)
    error = models.TextField(blank=True)
    job_id = models.UUIDField(null=True, blank=True)  # the training job
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="unique_generator_number_per_survey"),
            models.UniqueConstraint(
                fields=["survey"], condition=models.Q(status="active"), name="one_active_generator_per_survey"
            ),
        ]

    def __str__(self):
        return f"{self.survey.name} generator v{self.number} ({self.status})"


# a generation job with seed S gives its samples the seeds S * SEED_BLOCK + class * 10,000 + i
SEED_BLOCK = 1_000_000
MAX_SEED = 2**31 - 1  # a job's seed, so that every sample seed fits a 64-bit column


class GeneratedSample(models.Model):
    """A generated source, stored as a synthetic cutout; served to volunteers only once approved."""

    class Review(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    version = models.ForeignKey(GeneratorVersion, on_delete=models.CASCADE, related_name="samples")
    cutout = models.OneToOneField(Cutout, on_delete=models.CASCADE, related_name="generated_sample")
    requested_class = models.CharField(max_length=100)
    seed = models.BigIntegerField()
    guidance = models.FloatField()
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.PENDING)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["version", "requested_class", "review"])]

    def __str__(self):
        return f"sample {self.pk} ({self.requested_class}, {self.review})"
