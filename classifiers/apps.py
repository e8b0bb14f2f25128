from django.apps import AppConfig


class ClassifiersConfig(AppConfig):
    name = "classifiers"
    verbose_name = "Classifiers: model registry and training"

    def ready(self):
        from django.conf import settings

        from core.feature_extractors import register_feature_extractor
        from jobs.registry import register_job_runner

        from . import acquisition, explanations, extractors, jobs, services

        register_job_runner(
            services.TRAIN_JOB,
            jobs.train_classifier,
            queue="training",
            redeliver=True,
            max_attempts=lambda: settings.RGZ_CLASSIFIER_MAX_ATTEMPTS,
            on_abandoned=jobs.training_abandoned,
        )
        register_job_runner(services.SCORE_JOB, jobs.score_cutouts, queue="training")
        register_job_runner(services.FEATURES_JOB, jobs.cutout_features, queue="training")
        # re-ranking a queue by a saved policy: short, on the default queue
        register_job_runner(acquisition.RANK_JOB, acquisition.workflow_rank_job)
        # explanations are short: the default queue, so that they never wait behind a training
        register_job_runner(explanations.EXPLAIN_JOB, jobs.explain_cutout)
        # the generators judge their samples with the survey's active classifier
        register_feature_extractor(extractors.active_classifier_for_survey)
