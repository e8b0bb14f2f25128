"""Surveys, cutouts (Zooniverse "subjects"), workflows, classifications and the queue's state.

Meanings follow Zooniverse's so that exports and imports map one to one.
"""

import random

from django.conf import settings
from django.db import models

UNRANKED = -1e300  # queue priority of a subject without one: after every ranked subject


def _random_key() -> float:
    return random.random()


class Survey(models.Model):
    class QueueRanking(models.TextChoices):
        MANUAL = "manual", "priorities as set (by hand, by the anomaly scan)"
        COMPLEXITY = "complexity", "most complex first"
        UNCERTAINTY = "uncertainty", "most uncertain for the classifier first"
        BOTH = "complexity+uncertainty", "complex and uncertain first"

    name = models.CharField(max_length=100, unique=True)
    telescope = models.CharField(max_length=100, blank=True)
    frequency_mhz = models.FloatField(null=True, blank=True)
    beam_arcsec = models.FloatField(null=True, blank=True, help_text="FWHM of the restoring beam")
    pixel_scale_arcsec = models.FloatField(null=True, blank=True)
    description = models.TextField(blank=True)
    # How the labelling queue of this survey's cutouts is ordered, kept up to date as complexity
    # scores and classifier scores arrive (annotations.ranking).
    queue_ranking = models.CharField(max_length=30, choices=QueueRanking.choices, default=QueueRanking.MANUAL)
    queue_ranking_task = models.CharField(max_length=100, blank=True)  # classifier task whose entropy ranks
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SubjectSet(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="subject_sets")
    display_name = models.CharField(max_length=200)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "display_name"], name="unique_subject_set_name")]

    def __str__(self):
        return self.display_name


class Cutout(models.Model):
    """One radio-source image shown to volunteers: a Zooniverse subject."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="cutouts")
    subject_sets = models.ManyToManyField(SubjectSet, related_name="cutouts", blank=True)
    name = models.CharField(max_length=255)
    ra_deg = models.FloatField(null=True, blank=True)
    dec_deg = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source_format = models.CharField(max_length=8)  # fits, png, jpeg
    source_file = models.FileField(upload_to="cutouts/source/", max_length=255)
    image = models.FileField(upload_to="cutouts/png/", max_length=255)  # rendered for display
    pixels = models.FileField(upload_to="cutouts/pixels/", max_length=255)  # uint16, for in-browser stretch
    wcs_header = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)  # shown to volunteers and astronomers
    ingest_notes = models.JSONField(default=list, blank=True)
    contours = models.JSONField(default=list, blank=True)
    # Hidden metadata, used for ranking and never shown to volunteers.
    complexity = models.FloatField(null=True, blank=True)  # bits per pixel, mlcore.complexity
    complexity_percentile = models.FloatField(null=True, blank=True)  # within its survey
    model_scores = models.JSONField(default=dict, blank=True)
    priority = models.FloatField(null=True, blank=True)
    synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["survey", "name"], name="unique_cutout_name_per_survey")]
        # Generated subjects are few: "does this workflow have any?" (asked on every lease) reads
        # them from this small index instead of scanning the workflow's subjects.
        indexes = [models.Index(fields=["id"], condition=models.Q(synthetic=True), name="cutout_synthetic_only")]

    def __str__(self):
        return f"{self.survey.name}/{self.name}"


class CutoutLayer(models.Model):
    """Another band of a cutout's field (infrared, optical, polarisation, HI...) on the radio image's pixel grid."""

    class MatchedBy(models.TextChoices):
        SKY_POSITION = "sky_position", "sky position through the WCS"
        CATALOGUE = "catalogue", "catalogue name and file columns"
        SOURCE_NAME = "source_name", "source name shared by the file names"

    cutout = models.ForeignKey(Cutout, on_delete=models.CASCADE, related_name="layers")
    band = models.CharField(max_length=50)  # radio, infrared, optical, polarisation, hi_mom0...
    survey_name = models.CharField(max_length=100)  # where the layer comes from (WISE, SWIRE, POSSUM...)
    source_format = models.CharField(max_length=8)  # fits, png, jpeg
    source_file = models.FileField(upload_to="layers/source/", max_length=255)  # as given, own WCS
    image = models.FileField(upload_to="layers/png/", max_length=255)  # on the radio frame, for display
    pixels = models.FileField(upload_to="layers/pixels/", max_length=255)  # uint16 on the radio frame
    wcs_header = models.TextField(blank=True)  # the layer's own celestial WCS, before reprojection
    pixel_scale_arcsec = models.FloatField(null=True, blank=True)  # the layer's own resolution
    matched_by = models.CharField(max_length=20, choices=MatchedBy.choices)
    reprojected = models.BooleanField(default=False)  # False: same pixel grid as the radio image
    coverage = models.FloatField(default=1.0)  # share of the radio frame the layer covers
    notes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cutout_id", "band"]
        constraints = [models.UniqueConstraint(fields=["cutout", "band"], name="unique_layer_band_per_cutout")]

    def __str__(self):
        return f"{self.cutout}/{self.band}"


class Workflow(models.Model):
    """What volunteers are asked about a subject set; its tasks are versioned."""

    display_name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    prioritized = models.BooleanField(default=True)
    retirement = models.JSONField(default=dict, blank=True)
    subject_sets = models.ManyToManyField(SubjectSet, related_name="workflows", blank=True)
    version_major = models.PositiveIntegerField(default=1)
    version_minor = models.PositiveIntegerField(default=1)
    # The most of a volunteer's subjects that may be generated (synthetic) ones, 0..1.
    synthetic_share = models.FloatField(default=0.05)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(synthetic_share__gte=0, synthetic_share__lte=1), name="synthetic_share_0_to_1"
            )
        ]

    def __str__(self):
        return self.display_name

    @property
    def version_label(self) -> str:
        return f"{self.version_major}.{self.version_minor}"

    @property
    def retirement_limit(self) -> int | None:
        """Classifications after which a subject retires; None for ``never_retire``."""
        rule = self.retirement or {}
        if rule.get("criteria") == "never_retire":
            return None
        return int(rule.get("options", {}).get("count", settings.RGZ_DEFAULT_RETIREMENT_COUNT))


class WorkflowVersion(models.Model):
    """A frozen copy of a workflow's tasks; major changes with tasks, minor with wording."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    major = models.PositiveIntegerField()
    minor = models.PositiveIntegerField()
    first_task = models.CharField(max_length=20, default="T0")
    tasks = models.JSONField(default=dict)
    strings = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workflow", "major", "minor"]
        constraints = [models.UniqueConstraint(fields=["workflow", "major", "minor"], name="unique_workflow_version")]

    def __str__(self):
        return f"{self.workflow_id} v{self.label}"

    @property
    def label(self) -> str:
        return f"{self.major}.{self.minor}"


class RetirementReason(models.TextChoices):
    CLASSIFICATION_COUNT = "classification_count"
    FLAGGED = "flagged"
    NOTHING_HERE = "nothing_here"
    CONSENSUS = "consensus"
    HUMAN = "human"
    OTHER = "other"


class SubjectWorkflowStatus(models.Model):
    """A subject's progress in one workflow; the row the queue locks."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="subject_statuses")
    subject = models.ForeignKey(Cutout, on_delete=models.CASCADE, related_name="workflow_statuses")
    classification_count = models.PositiveIntegerField(default=0)
    leased_count = models.PositiveIntegerField(default=0)  # live queue leases, kept with the row lock
    retired_at = models.DateTimeField(null=True, blank=True)
    retirement_reason = models.CharField(max_length=32, choices=RetirementReason.choices, blank=True)
    # A copy of the subject's priority (UNRANKED when it has none) and a random rank, so the
    # queue reads one index in order on SQLite and PostgreSQL alike.
    priority = models.FloatField(default=UNRANKED)
    random_key = models.FloatField(default=_random_key)
    # A gold-standard subject (expert-labelled): served at the policy's gold rate, never retired by
    # volunteers' answers, which measure the volunteer instead of labelling the subject.
    gold = models.BooleanField(default=False)
    # What produced ``priority`` under an acquisition policy: the classifier version (model row id)
    # and feature version, and why the subject stands where it does.
    rank_model_version = models.IntegerField(null=True, blank=True)
    rank_feature_version = models.CharField(max_length=120, blank=True)
    rank_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "subject workflow statuses"
        constraints = [models.UniqueConstraint(fields=["workflow", "subject"], name="unique_subject_workflow_status")]
        indexes = [models.Index(fields=["workflow", "retired_at", "-priority", "random_key"], name="queue_order")]

    def __str__(self):
        return f"{self.subject_id} in {self.workflow_id}: {self.classification_count}"


class QueueLease(models.Model):
    """A subject handed to a volunteer and not yet classified; it holds a slot until it expires.

    An expired lease is kept, ``released``, as the record that the subject was served to that
    volunteer (a late answer is still accepted) until RGZ_QUEUE_SERVED_GRACE_SECONDS pass.
    """

    status = models.ForeignKey(SubjectWorkflowStatus, on_delete=models.CASCADE, related_name="leases")
    volunteer_key = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    released = models.BooleanField(default=False)
    # Anonymous volunteers' address, to bound the leases one address holds.
    address = models.CharField(max_length=45, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["status", "volunteer_key"], name="one_lease_per_volunteer")]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="lease_by_status"),
            models.Index(fields=["volunteer_key", "expires_at"], name="lease_by_volunteer"),
            models.Index(fields=["expires_at"], name="lease_by_expiry"),
            models.Index(fields=["address", "expires_at"], name="lease_by_address"),
        ]


class Classification(models.Model):
    """One volunteer's answers for one subject, in Zooniverse's annotation shape."""

    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="classifications")
    workflow_version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="classifications")
    subject = models.ForeignKey(Cutout, on_delete=models.CASCADE, related_name="classifications")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="classifications"
    )
    session_key = models.CharField(max_length=64, blank=True)
    volunteer_key = models.CharField(max_length=64)
    annotations = models.JSONField(default=list)
    metadata = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    user_agent = models.CharField(max_length=512, blank=True)
    gold_standard = models.BooleanField(default=False)
    expert = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Where it was made: on this platform, or imported (Zooniverse allows a volunteer to classify a
    # subject twice, so the one-per-volunteer rule holds for the platform's own rows only).
    source = models.CharField(max_length=16, default="platform")
    # The optional blinded question "does this look like a real observation?": real, generated or
    # "" (not asked or not answered). Asked on synthetic subjects and on real ones mixed in.
    # db_default too: bulk paths (COPY, INSERT ... SELECT) write rows without naming every column.
    realism = models.CharField(max_length=10, blank=True, default="", db_default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "subject", "volunteer_key"],
                condition=models.Q(source="platform"),
                name="one_classification_per_volunteer",
            )
        ]
        indexes = [
            models.Index(fields=["workflow", "subject"], name="classification_by_subject"),
            models.Index(fields=["volunteer_key", "workflow"], name="classification_by_volunteer"),
        ]

    def __str__(self):
        return f"classification {self.pk} of {self.subject_id}"


class VolunteerProfile(models.Model):
    """What the platform remembers for a signed-in volunteer between browsers."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_profile")
    tutorial_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"volunteer profile of {self.user_id}"


class AcquisitionPolicy(models.Model):
    """How a workflow's queue is ordered and mixed (weights of each acquisition score, exploration
    share, gold-standard schedule). Every save is a new row; exactly one row per workflow is
    active, so rolling back re-activates an earlier row."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="acquisition_policies")
    number = models.PositiveIntegerField()
    policy = models.JSONField(default=dict)  # mlcore.active.policy.AcquisitionPolicy.to_dict()
    task_name = models.CharField(max_length=100, blank=True)  # classifier task whose scores rank
    active = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workflow", "-number"]
        verbose_name_plural = "acquisition policies"
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="unique_policy_number_per_workflow"),
            models.UniqueConstraint(
                fields=["workflow"], condition=models.Q(active=True), name="one_active_policy_per_workflow"
            ),
        ]

    def __str__(self):
        return f"policy {self.number} of workflow {self.workflow_id}"
