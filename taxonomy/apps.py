from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "taxonomy"
    verbose_name = "Plain-English tag taxonomy"

    def ready(self):
        from django.db.models.signals import post_save

        from annotations.models import Classification
        from jobs.registry import register_job_runner

        from . import jobs, receivers

        register_job_runner("derive_taxonomy", jobs.derive_runner)
        register_job_runner("autotag_descriptions", jobs.autotag_runner)
        post_save.connect(receivers.classification_saved, sender=Classification, dispatch_uid="taxonomy-classification")
