from django.apps import AppConfig


class ZooniverseConfig(AppConfig):
    name = "zooniverse"
    verbose_name = "Zooniverse interoperability"

    def ready(self):
        from jobs.registry import register_job_runner

        from . import sync

        register_job_runner(sync.PUSH_JOB, sync.sync_push)
        register_job_runner(sync.PULL_JOB, sync.sync_pull)
