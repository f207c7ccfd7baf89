"""Helpers for the course 'Autoencoders, hands-on'.

One module per concern, each short enough to read in one sitting:
    data      the images (MNIST subset by default, full MNIST or Fashion-MNIST on request)
    models    MLP encoders, decoders and autoencoders
    losses    loss functions, each stating its reduction
    train     device, seeding and the `fit` loop over tensors in memory
    cache     train once, then load from data/cache/
    evaluate  PCA baseline, nearest-neighbour accuracy, principal angles, retrieval
    plots     the course's figures
    widgets   the interactive explorers
    checks    exercise checkers that print ✓ or ✗
"""
from . import cache, checks, data, evaluate, losses, models, plots, train, widgets  # noqa: F401
