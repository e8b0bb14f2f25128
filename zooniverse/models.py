"""How Zooniverse's ids map onto the platform's: workflows and subjects seen in imported exports."""

from django.db import models

from annotations.models import Cutout, Workflow


class ZooniverseWorkflow(models.Model):
    zooniverse_id = models.BigIntegerField(unique=True)
    display_name = models.CharField(max_length=300, blank=True)
    workflow = models.OneToOneField(Workflow, on_delete=models.CASCADE, related_name="zooniverse")
    retirement = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return f"Zooniverse workflow {self.zooniverse_id}"


class ZooniverseSubject(models.Model):
    zooniverse_id = models.BigIntegerField(unique=True)
    cutout = models.ForeignKey(Cutout, on_delete=models.CASCADE, related_name="zooniverse_subjects")
    metadata = models.JSONField(default=dict, blank=True)
    placeholder = models.BooleanField(default=False)  # no platform cutout matched: made from the export alone
    matched_by = models.CharField(max_length=40, blank=True)  # platform id, file name, name, position, pushed
    # Set for subjects this platform pushed: its sync state, so an interrupted push resumes.
    link = models.ForeignKey(
        "ZooniverseLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="subjects"
    )
    upload_url = models.CharField(max_length=1000, blank=True)  # kept until the media upload succeeds
    uploaded = models.BooleanField(default=True)
    in_subject_set = models.BooleanField(default=False)
    pushed_priority = models.FloatField(null=True, blank=True)  # the #priority Zooniverse holds
    retired_on_zooniverse = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # One Zooniverse subject per cutout and link, whatever two pushes racing each other do.
            models.UniqueConstraint(
                fields=["link", "cutout"], condition=models.Q(link__isnull=False), name="one_pushed_subject_per_cutout"
            )
        ]

    def __str__(self):
        return f"Zooniverse subject {self.zooniverse_id} -> cutout {self.cutout_id}"


class ZooniverseLink(models.Model):
    """A platform workflow synced with a live Zooniverse project's workflow (push subjects, pull classifications)."""

    workflow = models.OneToOneField(Workflow, on_delete=models.CASCADE, related_name="zooniverse_link")
    endpoint = models.CharField(max_length=300)
    project_id = models.BigIntegerField()
    zooniverse_workflow_id = models.BigIntegerField()
    subject_set_id = models.BigIntegerField(null=True, blank=True)  # made by the first push
    subject_set_linked = models.BooleanField(default=False)  # linked to the Zooniverse workflow
    pull_every_minutes = models.PositiveIntegerField(default=60)  # 0: pull on demand only
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_pull_requested_at = models.DateTimeField(null=True, blank=True)
    # Set while a push or pull runs, so that two never run at once for one link (stale after a while).
    busy_since = models.DateTimeField(null=True, blank=True)
    busy_with = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.workflow} <-> Zooniverse workflow {self.zooniverse_workflow_id}"
