from django.apps import AppConfig


class ClassifiersConfig(AppConfig):
    name = "classifiers"
    verbose_name = "Classifiers: model registry and training"

    def ready(self):
        from django.conf import settings

        from annotations.jobs import register_job_runner

        from . import jobs, services

        register_job_runner(
            "train_classifier",
            jobs.train_classifier,
            queue="training",
            max_attempts=lambda: settings.RGZ_CLASSIFIER_MAX_ATTEMPTS,
            on_abandoned=jobs.training_abandoned,
        )
        register_job_runner("score_cutouts", jobs.score_cutouts, queue="training")
        # explanations are short: the default queue, so that they never wait behind a training
        register_job_runner(services.EXPLAIN_JOB, jobs.explain_cutout)
