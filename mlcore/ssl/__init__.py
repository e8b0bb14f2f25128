"""Semi-supervised radio-galaxy classification: FixMatch (Sohn et al. 2020) as applied to radio
images by Slijepcevic et al. (MNRAS 514, 2599, 2022), and a supervised baseline on the same network.

Modules: ``config`` (frozen settings), ``network`` (the "Tang" CNN), ``augment`` (weak and strong
augmentations), ``data`` (preprocessing and resampling), ``losses`` (pure loss functions),
``loop`` (the training step and loop), ``checkpoint`` (resume checkpoints and weights files),
``estimator`` (the scikit-learn-style ``SSLClassifier``), ``metrics``
(accuracy, F1, ECE, reliability diagram, Frechet distance), ``uncertainty`` (entropy, margin,
BALD), ``plots`` (matplotlib, Agg) and ``explain`` (LIME). torch is imported by these modules,
so import them only where training or inference happens.
"""
