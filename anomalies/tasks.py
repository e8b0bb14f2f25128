"""Celery tasks of a scan: one per tile (several workers share a mosaic), then one to finalise."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, name="anomalies.scan_tile")
def scan_tile_task(scan_id: str, index: int) -> None:
    if services.scan_tile_run(scan_id=scan_id, index=index):
        scan_finalize_task.delay(scan_id)


@shared_task(acks_late=True, name="anomalies.scan_finalize")
def scan_finalize_task(scan_id: str) -> None:
    services.scan_finalize(scan_id=scan_id)
