"""Plain-English tags: candidates derived from volunteers' descriptions, curated by astronomers,
published as taxonomy versions, and linked to descriptions and cutouts with their evidence."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from annotations.models import Classification, Cutout


class Tag(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate"
        APPROVED = "approved"
        RETIRED = "retired"

    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CANDIDATE)
    # Support from the last derivation: phrases mapped to the tag and distinct cutouts.
    support = models.PositiveIntegerField(default=0)
    sources = models.PositiveIntegerField(default=0)
    example_phrases = models.JSONField(default=list, blank=True)
    example_cutouts = models.JSONField(default=list, blank=True)  # cutout ids
    derived_keys = models.JSONField(default=list, blank=True)  # phrase keys grouped under it
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")
    revision = models.PositiveIntegerField(default=1)  # bumped by every edit: no lost update
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-support", "name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="unique_tag_name_ci")]

    def __str__(self):
        return self.name


class TagSynonym(models.Model):
    """Another wording of a tag (a phrase key, lower-case); auto-tagging matches it too."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="synonyms")
    phrase = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["phrase"]

    def __str__(self):
        return f"{self.phrase} -> {self.tag_id}"


class TaxonomyVersion(models.Model):
    """A published snapshot of the approved tags and their synonyms."""

    number = models.PositiveIntegerField(unique=True)
    note = models.TextField(blank=True)
    tags = models.JSONField(default=list)  # [{"id", "name", "description", "synonyms", "keys"}]
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self):
        return f"taxonomy v{self.number}"


class Description(models.Model):
    """A volunteer's description (a text-task answer) after the text pipeline: its phrase keys."""

    classification = models.ForeignKey(Classification, on_delete=models.CASCADE, related_name="tag_descriptions")
    task = models.CharField(max_length=20)
    cutout = models.ForeignKey(Cutout, on_delete=models.CASCADE, related_name="tag_descriptions")
    volunteer_key = models.CharField(max_length=64)
    text = models.TextField()
    phrases = models.JSONField(default=list)  # [{"text", "key", "units"}]
    tagged_version = models.ForeignKey(TaxonomyVersion, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["classification", "task"], name="unique_description_task")]
        indexes = [models.Index(fields=["cutout"], name="description_by_cutout")]


class TagLink(models.Model):
    """A tag on a cutout, from a description (auto-tagging), a volunteer's tag pick or an astronomer."""

    class Origin(models.TextChoices):
        AUTO = "auto"  # the published taxonomy matched a phrase of a description
        PICK = "pick"  # a volunteer picked the tag in a tags task
        ASTRONOMER = "astronomer"

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="links")
    cutout = models.ForeignKey(Cutout, on_delete=models.CASCADE, related_name="tag_links")
    description = models.ForeignKey(Description, null=True, blank=True, on_delete=models.CASCADE, related_name="links")
    classification = models.ForeignKey(Classification, null=True, blank=True, on_delete=models.CASCADE)
    evidence = models.CharField(max_length=300, blank=True)  # the phrase that gave the tag
    origin = models.CharField(max_length=12, choices=Origin.choices)
    volunteer_key = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    version = models.ForeignKey(TaxonomyVersion, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["tag", "cutout"], name="taglink_by_tag")]


class DerivationRun(models.Model):
    """One derivation of candidates: up to which classification it read, and its settings."""

    threshold = models.FloatField()
    descriptions = models.PositiveIntegerField(default=0)
    phrases = models.PositiveIntegerField(default=0)
    terms = models.PositiveIntegerField(default=0)
    last_classification_id = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class CurationEvent(models.Model):
    """Who changed what when; ``before`` holds what undo writes back."""

    action = models.CharField(max_length=20)
    summary = models.CharField(max_length=300)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    before = models.JSONField(default=dict)  # {"tags": [state...], "links": {link_id: tag_id}}
    after = models.JSONField(default=dict)  # {"revisions": {tag_id: revision}, "created": [tag_id]}
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
