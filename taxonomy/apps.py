from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "taxonomy"
    verbose_name = "Plain-English tag taxonomy"

    def ready(self):
        from django.db.models.signals import post_save

        from annotations.models import Classification
        from annotations.tag_vocabulary import vocabulary_provider_register
        from annotations.volunteer_history import volunteer_history_claimed
        from jobs.registry import register_job_runner

        from . import jobs, receivers, selectors
        from .models import TaxonomyVersion

        register_job_runner("derive_taxonomy", jobs.derive_runner)
        register_job_runner("autotag_descriptions", jobs.autotag_runner)
        vocabulary_provider_register(selectors.tag_published_vocabulary)
        volunteer_history_claimed.connect(receivers.volunteer_history_claimed, dispatch_uid="taxonomy-history-claimed")
        post_save.connect(receivers.classification_saved, sender=Classification, dispatch_uid="taxonomy-classification")
        post_save.connect(receivers.taxonomy_published, sender=TaxonomyVersion, dispatch_uid="taxonomy-published")
