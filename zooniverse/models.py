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
    matched_by = models.CharField(max_length=40, blank=True)  # platform id, file name, name, position

    def __str__(self):
        return f"Zooniverse subject {self.zooniverse_id} -> cutout {self.cutout_id}"
