"""Helpers for the course 'Autoencoders, hands-on'.

One module per concern, each short enough to read in one sitting. The ground floor:
    data        the images (MNIST subset by default, full MNIST or Fashion-MNIST on request)
    tensors     to_numpy: one way from a tensor to a NumPy array
    models      MLP encoders, decoders and autoencoders; batched inference (encode_all,
                decode_all, reconstruct_all) and device_of(model)
    losses      reconstruction losses, each named by its reduction (per pixel, per image)
    divergences every KL divergence of the course, and the Bhattacharyya distance
    train       device, seeding and the `fit` loop over tensors in memory (with or without labels)
    cache       train_or_load(recipe, data): loaded if cached, else trained; what it did, as
                CacheEvent data
    fingerprint which code trained a model: a hash of its source (no torch: any Python runs it)
    timing      timing code fairly: interleaved rounds after a warm-up
    evaluate    PCA baseline, nearest-neighbour accuracy, principal angles, retrieval
    plots       the course's figures, and the drawings widgets share
    widgets     the interactive explorers, one module per notebook, and the drawing pad's views
                (widgets/drawing), all on one small base (widgets/base: controls, picture, show)
    checks      exercise checkers that print ✓ or ✗
    errors      argument checks that name the allowed values, and failures put into words
    drawing     a digit drawn on the pad, prepared like MNIST's digits (01, 02, 06)

one module per kind of autoencoder or estimator (its pieces: noise, penalties, losses, estimators):
    corruption   noise for the denoising autoencoder (02)
    sparsity     KL and L1 sparsity penalties (03)
    contractive  Jacobian norms and the contractive penalty (04)
    stacked      greedy layer-wise training and fine-tuning (05)
    classifier   a fixed digit classifier used as a judge (06)
    vae          the VAE, its loss, the ELBO and importance sampling (06, 07); the conditional
                 VAE (09)
    latent       paths between two codes, and the decoder's output as an average of digits (09)
    gaussians    1-D Gaussian fits for the KL-direction demo, probabilistic PCA (06, 07)

and on top:
    recipes     every trained model of the course, defined once (what is trained, how it is
                built and trained, and where it is used); `python -m helpers.recipes`
                (make models) prepares them all
    series      every model of the series behind one interface, and the measures that compare them (08)

Not here: what `make lab` runs is tools/lab.py, and what builds the website is website/
(export.py turns the widgets into web forms, from what each widget declares; nothing in
helpers/ writes HTML or imports from website/).

Importing the package sizes the CPU thread pools to the kernel's share of the CPU (threads.py:
CPU_LIMIT, the cgroup quota, the affinity) and imports none of the modules above: `from helpers
import train` loads train and what it needs, so `import helpers.train` does not pull in ipywidgets.
"""
import importlib

from .threads import limit_threads

limit_threads()

MODULES = ("data", "tensors", "models", "losses", "divergences", "train", "cache", "fingerprint",
           "timing", "evaluate", "plots", "widgets", "checks", "errors", "drawing", "corruption",
           "sparsity", "contractive", "stacked", "classifier", "vae", "latent", "gaussians", "recipes",
           "series")


def __getattr__(name):
    """`helpers.plots` works after a bare `import helpers`: the module is imported on first use."""
    if name in MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
