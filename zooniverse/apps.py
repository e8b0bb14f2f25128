from django.apps import AppConfig


class ZooniverseConfig(AppConfig):
    name = "zooniverse"
    verbose_name = "Zooniverse interoperability"

    def ready(self):
        from annotations.queue_listeners import register_queue_ranked_listener
        from jobs.registry import register_job_runner

        from . import sync

        register_job_runner(sync.PUSH_JOB, sync.sync_push)
        register_job_runner(sync.PULL_JOB, sync.sync_pull)
        # an active-learning round's new ranks reach the linked projects as #priority at once
        register_queue_ranked_listener(sync.priorities_push_after_rerank)
