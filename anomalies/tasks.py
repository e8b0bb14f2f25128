"""Celery sub-task of a scan: one tile, so that several workers share a mosaic (the scan's job
finalises it)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, name="anomalies.scan_tile")
def scan_tile_task(scan_id: str, index: int) -> None:
    services.scan_tile_run(scan_id=scan_id, index=index)
