"""Blind complexity scans of survey mosaics and the anomaly catalogues drawn from them."""

import uuid

from django.db import models

from annotations.models import Cutout
from jobs.models import Job


class Scan(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mosaic_path = models.CharField(max_length=1000)
    mosaic_name = models.CharField(max_length=255, blank=True)  # an uploaded mosaic's own file name
    out_path = models.CharField(max_length=1000, blank=True)
    aperture_arcsec = models.FloatField()
    stride_arcsec = models.FloatField()
    aperture_px = models.PositiveIntegerField()
    stride_px = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    tile_frames = models.PositiveIntegerField()
    tile_count = models.PositiveIntegerField()
    top_percents = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    message = models.TextField(blank=True)
    notes = models.JSONField(default=list, blank=True)  # about the mosaic, e.g. "4-D cube: took the first plane"
    frames = models.PositiveIntegerField(default=0)
    thresholds = models.JSONField(default=dict, blank=True)  # top percent -> score threshold
    histogram = models.FileField(upload_to="scans/", blank=True, max_length=255)
    # The whole mosaic, north up, every few pixels (anomalies.ml.map_geometry): the page marks the
    # catalogue on it.
    mosaic_map = models.FileField(upload_to="scans/", blank=True, max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")  # the last start

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"scan of {self.mosaic_path} ({self.status})"


class ScanTile(models.Model):
    """One tile of a scan; its frames' scores live in a file written atomically when done."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="tiles")
    index = models.PositiveIntegerField()
    done = models.BooleanField(default=False)
    frames = models.PositiveIntegerField(default=0)
    result_path = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["scan", "index"], name="unique_scan_tile")]


class AnomalyEntry(models.Model):
    """A high-complexity frame after merging overlapping apertures; ``top_percent`` is the
    tightest catalogue level it belongs to (for example 0.5 means it is in all three)."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="entries")
    rank = models.PositiveIntegerField()
    x = models.FloatField()
    y = models.FloatField()
    ra_deg = models.FloatField()
    dec_deg = models.FloatField()
    score = models.FloatField()
    percentile = models.FloatField()
    top_percent = models.FloatField()
    thumbnail = models.FileField(upload_to="scans/thumbs/", blank=True, max_length=255)
    cutout = models.ForeignKey(Cutout, null=True, blank=True, on_delete=models.SET_NULL, related_name="anomalies")

    class Meta:
        ordering = ["scan", "rank"]
        constraints = [models.UniqueConstraint(fields=["scan", "rank"], name="unique_entry_rank")]
