"""Background jobs: how a dead worker is noticed, how often its work is resumed, orphan sweeps."""

import os

# A running job's row gets a heartbeat at every progress report and, from a thread of the process
# running it, every RGZ_JOB_HEARTBEAT_SECONDS (so a long step without progress is not taken for a
# dead worker). A running job without a heartbeat for RGZ_JOB_HEARTBEAT_TIMEOUT_SECONDS is taken
# for lost: started again, or failed with the reason after RGZ_JOB_MAX_ATTEMPTS starts.
RGZ_JOB_HEARTBEAT_SECONDS = float(os.environ.get("RGZ_JOB_HEARTBEAT_SECONDS", 30))
RGZ_JOB_HEARTBEAT_TIMEOUT_SECONDS = float(os.environ.get("RGZ_JOB_HEARTBEAT_TIMEOUT_SECONDS", 180))
RGZ_JOB_MAX_ATTEMPTS = int(os.environ.get("RGZ_JOB_MAX_ATTEMPTS", 3))
# How often Celery beat runs the jobs sweep (lost jobs, and tasks that could not be queued while
# the broker was down); every worker also sweeps when it starts.
RGZ_JOB_SWEEP_SECONDS = float(os.environ.get("RGZ_JOB_SWEEP_SECONDS", 60))
# Cutout files without a cutout row (a worker killed between writing the files and committing the
# row) are deleted once older than this; the sweep runs every RGZ_MEDIA_SWEEP_SECONDS.
RGZ_MEDIA_ORPHAN_AGE_SECONDS = float(os.environ.get("RGZ_MEDIA_ORPHAN_AGE_SECONDS", 3600))
RGZ_MEDIA_SWEEP_SECONDS = float(os.environ.get("RGZ_MEDIA_SWEEP_SECONDS", 3600))
