"""Classifiers (the classifiers app): training defaults, scoring, explanations, automatic retraining."""

import json
import os

# The task that `retrain` and the pages use when none is named (made on the demo survey when loaded).
RGZ_CLASSIFIER_DEFAULT_TASK = os.environ.get("RGZ_CLASSIFIER_DEFAULT_TASK", "fr-morphology")
# Passes over the labelled set: the published FixMatch setting; long on a CPU (see bench/RESULTS.md).
RGZ_CLASSIFIER_EPOCHS = int(os.environ.get("RGZ_CLASSIFIER_EPOCHS", 800))
# A training is redelivered when its worker dies (it resumes from its checkpoint); after this many
# starts it fails instead, so that a run that kills its worker (out of memory) does not loop.
RGZ_CLASSIFIER_MAX_ATTEMPTS = int(os.environ.get("RGZ_CLASSIFIER_MAX_ATTEMPTS", 3))
RGZ_CLASSIFIER_SCORE_BATCH = int(os.environ.get("RGZ_CLASSIFIER_SCORE_BATCH", 256))
RGZ_CLASSIFIER_LIME_SAMPLES = int(os.environ.get("RGZ_CLASSIFIER_LIME_SAMPLES", 300))
# An explanation job unfinished after this long is taken for lost (its worker died) and a new
# request starts another.
RGZ_CLASSIFIER_EXPLAIN_TIMEOUT_SECONDS = int(os.environ.get("RGZ_CLASSIFIER_EXPLAIN_TIMEOUT_SECONDS", 600))
# How often Celery beat checks whether a task's new consensus labels call for a retraining
# (ClassifierTask.retrain_after_new_labels; `python manage.py retrain --if-due` does the same once).
RGZ_CLASSIFIER_AUTO_RETRAIN_CHECK_SECONDS = int(os.environ.get("RGZ_CLASSIFIER_AUTO_RETRAIN_CHECK_SECONDS", 600))
# Default, for new tasks, of how many new consensus labels start an automatic retraining (0: never).
RGZ_CLASSIFIER_RETRAIN_AFTER_NEW_LABELS = int(os.environ.get("RGZ_CLASSIFIER_RETRAIN_AFTER_NEW_LABELS", 0))
# Acquisition policies: how many subjects at the head of a ranked queue are thinned for diversity
# in feature space (the rest follows the combined priority), and the bounds of the preview and of
# "more like this" searches.
RGZ_ACQUISITION_DIVERSE_HEAD = int(os.environ.get("RGZ_ACQUISITION_DIVERSE_HEAD", 200))
RGZ_ACQUISITION_PREVIEW_MAX = int(os.environ.get("RGZ_ACQUISITION_PREVIEW_MAX", 100))
RGZ_SIMILAR_MAX_K = int(os.environ.get("RGZ_SIMILAR_MAX_K", 100))
# The active-learning loop (classifiers.active_loop): a round (retrain warm-started from the active
# version, promote, rescore, re-rank, push #priority to Zooniverse) starts once a classifier task of
# a survey has this many new consensus labels since its last training; 0 turns the loop off. A
# survey may set its own number (`manage.py active_loop --survey NAME --retrain-after N`).
RGZ_ACTIVE_RETRAIN_AFTER = int(os.environ.get("RGZ_ACTIVE_RETRAIN_AFTER", 100))
# Epochs of a round's training: it starts from the active version's weights, so far fewer than a
# training from scratch.
RGZ_ACTIVE_ROUND_EPOCHS = int(os.environ.get("RGZ_ACTIVE_ROUND_EPOCHS", 30))
# The survey encoders (`manage.py train_encoder`, mlcore.features.ContrastiveEncoder): settings that
# replace EncoderConfig's defaults for every run, e.g. {"image_size": 32, "batch_size": 64} on a
# small machine (a run's own --steps wins over "steps" here).
RGZ_ENCODER_SETTINGS = json.loads(os.environ.get("RGZ_ENCODER_SETTINGS", "{}"))
