from django.apps import AppConfig


class ClassifiersConfig(AppConfig):
    name = "classifiers"
    verbose_name = "Classifiers: model registry and training"

    def ready(self):
        from django.conf import settings
        from django.core.signals import setting_changed
        from django.db.models.signals import post_delete, post_save

        from annotations.models import Classification
        from core.feature_extractors import register_feature_extractor
        from jobs.registry import register_job_runner

        from . import (
            acquisition,
            active_loop,
            active_round,
            encoder_job,
            encoders,
            explanations,
            extractors,
            jobs,
            models,
            receivers,
            services,
        )

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
        # a round of the active-learning loop trains: the training queue, one start (it warm-starts
        # again rather than resume); an abandoned round hands back to the earlier versions
        register_job_runner(
            active_loop.ROUND_JOB,
            active_round.active_round,
            queue="training",
            max_attempts=lambda: 1,
            on_abandoned=active_round.round_abandoned,
        )
        # a survey encoder trains once, on the training queue; a dead worker fails it (a rerun starts afresh)
        register_job_runner(
            encoders.ENCODER_JOB,
            encoder_job.encoder_train,
            queue="training",
            max_attempts=lambda: 1,
            on_abandoned=encoders.encoder_fail,
        )
        post_save.connect(receivers.classification_saved, sender=Classification, dispatch_uid="classifiers-loop")
        for model in (models.ActiveLoop, models.ClassifierTask):
            for signal in (post_save, post_delete):
                signal.connect(receivers.loop_checks_forget, sender=model, dispatch_uid=f"loop-checks-{model.__name__}")
        setting_changed.connect(receivers.loop_checks_forget, dispatch_uid="loop-checks-settings")
        # re-ranking a queue by a saved policy: short, on the default queue
        register_job_runner(acquisition.RANK_JOB, acquisition.workflow_rank_job)
        # explanations are short: the default queue, so that they never wait behind a training
        register_job_runner(explanations.EXPLAIN_JOB, jobs.explain_cutout)
        # the generators judge their samples with the survey's active classifier
        register_feature_extractor(extractors.active_classifier_for_survey)
