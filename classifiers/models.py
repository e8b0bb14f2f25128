"""Classification tasks and their model versions (the model registry)."""

from django.conf import settings
from django.db import models

from annotations.models import Cutout, Survey, Workflow
from jobs.models import Job


class ClassifierTask(models.Model):
    """What a classifier predicts: one question of a workflow over one survey's cutouts.

    Labels come from expert classifications and from volunteer consensus on ``question``;
    answers whose value is not in ``classes`` are ignored. Exactly one version is active.
    """

    name = models.SlugField(max_length=100, unique=True)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="classifier_tasks")
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="classifier_tasks")
    question = models.CharField(max_length=20, default="T0")
    classes = models.JSONField(help_text='answer values, in class-index order, e.g. ["FRI", "FRII"]')
    min_agreement = models.FloatField(default=0.8, help_text="share of votes a consensus label needs")
    min_votes = models.PositiveIntegerField(default=3, help_text="votes a consensus label needs")
    consensus_method = models.CharField(
        max_length=10,
        choices=[("votes", "votes"), ("posterior", "posterior")],
        default="votes",
        help_text="votes: the most voted answer; posterior: the answer most probable under the crowd's "
        "confusion on gold subjects (min_agreement then bounds its probability)",
    )
    # Automatic retraining once this many new consensus labels have arrived (0: never).
    retrain_after_new_labels = models.PositiveIntegerField(default=0)
    consensus_labels_at_last_training = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        TRAINING = "training"
        READY = "ready"
        FAILED = "failed"
        ACTIVE = "active"

    class LabelSource(models.TextChoices):
        EXPERT = "expert"
        CONSENSUS = "consensus"
        BOTH = "both"

    task = models.ForeignKey(ClassifierTask, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    architecture = models.CharField(max_length=50, default="tang")
    method = models.CharField(max_length=20, default="fixmatch")
    config = models.JSONField(default=dict)  # mlcore.ssl.config.FixMatchConfig.as_dict()
    label_source = models.CharField(max_length=10, choices=LabelSource.choices, default=LabelSource.BOTH)
    # Approved generated samples join the training split, labelled with the class asked for; off
    # unless an astronomer turns it on for this run (they never enter validation or test).
    augment_synthetic = models.BooleanField(default=False)
    # Cutout ids: {"train": [...], "val": [...], "test": [...], "unlabelled": [...]} and labels per id.
    training_data = models.JSONField(default=dict, blank=True)
    history = models.JSONField(default=list, blank=True)  # one row per epoch: losses, accuracies
    metrics = models.JSONField(default=dict, blank=True)
    weights = models.FileField(upload_to="classifiers/weights/", max_length=255, blank=True)
    reliability_plot = models.FileField(upload_to="classifiers/plots/", max_length=255, blank=True)
    curves_plot = models.FileField(upload_to="classifiers/plots/", max_length=255, blank=True)
    confusion_plot = models.FileField(upload_to="classifiers/plots/", max_length=255, blank=True)
    error = models.TextField(blank=True)
    # Whether the weights load into the architecture, checked once where torch runs (at the end of
    # training, or by `check_weights`), so that promotion never loads them in a web request.
    weights_checked_at = models.DateTimeField(null=True, blank=True)
    weights_error = models.TextField(blank=True, help_text="why the weights did not load (empty: they did)")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The version whose weights this one started from (an active-learning round warm-starts from the
    # active version); empty: trained from random weights.
    warm_start_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["task", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["task", "number"], name="unique_version_number_per_task"),
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(status="active"), name="one_active_version_per_task"
            ),
        ]

    def __str__(self):
        return f"{self.task.name} v{self.number} ({self.status})"


class CutoutFeatures(models.Model):
    """A cutout's learned feature vector (float32 bytes): the penultimate layer of a classifier
    version, computed by the scoring job after promotion, or a survey's self-supervised encoder
    (``FeatureEncoder``, no model version). ``feature_version`` names what produced it, so vectors
    of different versions are never compared."""

    cutout = models.ForeignKey(Cutout, on_delete=models.CASCADE, related_name="feature_vectors")
    feature_version = models.CharField(max_length=120)  # "<task>:v<number>" or "encoder:<survey>:v<number>"
    model_version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    dim = models.PositiveIntegerField()
    vector = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cutout", "feature_version"], name="one_vector_per_feature_version")
        ]
        indexes = [models.Index(fields=["feature_version", "cutout"], name="features_by_version")]


class ActiveLoop(models.Model):
    """A survey's own setting of the active-learning loop (classifiers.active_loop); a survey
    without a row follows ``RGZ_ACTIVE_RETRAIN_AFTER``."""

    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="active_loop")
    retrain_after = models.PositiveIntegerField(
        null=True, blank=True, help_text="new consensus labels that start a round (0: never; empty: the setting)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"active loop of {self.survey}"


class FeatureEncoder(models.Model):
    """A survey's self-supervised encoder (``mlcore.features.ContrastiveEncoder``, trained on its
    cutouts without labels) and the feature space its vectors span. One is active per survey: the
    space that similarity and novelty fall back on when a cutout has no classifier vector."""

    class Status(models.TextChoices):
        TRAINING = "training"
        READY = "ready"
        ACTIVE = "active"
        FAILED = "failed"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="feature_encoders")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    feature_version = models.CharField(max_length=120)  # "encoder:<survey>:v<number>"
    config = models.JSONField(default=dict)  # mlcore.features.EncoderConfig.as_dict()
    weights = models.FileField(upload_to="classifiers/encoders/", max_length=255, blank=True)
    loss_history = models.JSONField(default=list, blank=True)  # the loss of each training step
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="unique_encoder_number_per_survey"),
            models.UniqueConstraint(
                fields=["survey"], condition=models.Q(status="active"), name="one_active_encoder_per_survey"
            ),
        ]

    def __str__(self):
        return f"{self.feature_version} ({self.status})"
