from django.apps import AppConfig


class AnomaliesConfig(AppConfig):
    name = "anomalies"
    verbose_name = "Complexity scans and anomaly catalogues"

    def ready(self):
        from jobs.registry import register_job_runner

        from . import jobs

        register_job_runner(jobs.SCAN_JOB, jobs.scan_run, on_abandoned=jobs.scan_abandoned)
