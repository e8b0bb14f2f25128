from django.apps import AppConfig


class GenerativeConfig(AppConfig):
    name = "generative"
    verbose_name = "Generators: diffusion-made examples for the labelling queue"

    def ready(self):
        from django.conf import settings

        from jobs.registry import register_job_runner

        from . import jobs, services

        register_job_runner(
            services.TRAIN_JOB,
            jobs.train_generator,
            queue="training",
            redeliver=True,  # a worker lost mid-training: the message returns and the job resumes its checkpoint
            max_attempts=lambda: settings.RGZ_GENERATIVE_MAX_ATTEMPTS,
            on_abandoned=jobs.training_abandoned,
        )
        # a worker lost mid-generation: the message returns and the job skips the samples it stored
        register_job_runner(services.GENERATE_JOB, jobs.generate_samples, queue="training", redeliver=True)
        register_job_runner(services.EVALUATE_JOB, jobs.evaluate_generator, queue="training")
