"""Generators (the generative app): evaluation and training limits."""

import os

# Share of a survey's labelled cutouts held out (per class) to evaluate a generator against.
RGZ_GENERATIVE_TEST_FRACTION = float(os.environ.get("RGZ_GENERATIVE_TEST_FRACTION", 0.1))
# Samples per class drawn to evaluate a trained version (and shown in its sample grid).
RGZ_GENERATIVE_EVAL_PER_CLASS = int(os.environ.get("RGZ_GENERATIVE_EVAL_PER_CLASS", 16))
# A training is redelivered when its worker dies (it resumes from its checkpoint) this many times.
RGZ_GENERATIVE_MAX_ATTEMPTS = int(os.environ.get("RGZ_GENERATIVE_MAX_ATTEMPTS", 3))
# Every this many epochs a training draws a sample grid from its weights so far (the live picture).
RGZ_GENERATIVE_GRID_EVERY = int(os.environ.get("RGZ_GENERATIVE_GRID_EVERY", 5))
# Fewest usable labelled cutouts of each class that a generator training accepts.
RGZ_GENERATIVE_MIN_PER_CLASS = int(os.environ.get("RGZ_GENERATIVE_MIN_PER_CLASS", 5))
