from django.apps import AppConfig


class ClassifiersConfig(AppConfig):
    name = "classifiers"
    verbose_name = "Classifiers: model registry and training"

    def ready(self):
        from annotations.jobs import register_job_runner

        from . import jobs

        register_job_runner("train_classifier", jobs.train_classifier, queue="training")
        register_job_runner("score_cutouts", jobs.score_cutouts, queue="training")
