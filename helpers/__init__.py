"""Helpers for the course 'Autoencoders, hands-on'.

One module per concern, each short enough to read in one sitting:
    data      the images (MNIST subset by default, full MNIST or Fashion-MNIST on request)
    models    MLP encoders, decoders and autoencoders
    losses    loss functions, each stating its reduction
    train     device, seeding and the `fit` loop over tensors in memory
    cache     train once, then load from data/cache/
    evaluate  PCA baseline, nearest-neighbour accuracy, principal angles, retrieval
    plots     the course's figures
    widgets   the interactive explorers, one module per notebook
    checks    exercise checkers that print ✓ or ✗
    errors    argument checks that name the allowed values, and failures put into words
    lab       what `make lab` runs: JupyterLab on 127.0.0.1, and the link that logs in
              (a script: python -I helpers/lab.py; not imported here)
    drawing   a digit drawn on the pad, prepared like MNIST's digits (01, 02, 06)

and one module per kind of autoencoder or estimator:
    corruption   noise for the denoising autoencoder (02)
    sparsity     KL and L1 sparsity penalties (03)
    divergences  KL divergence and Bhattacharyya distance (03)
    contractive  Jacobian norms and the contractive penalty (04)
    stacked      greedy layer-wise training and fine-tuning (05)
    classifier   a fixed digit classifier used as a judge (06)
    vae          the VAE, its loss, the ELBO and importance sampling (06, 07)
    gaussians    1-D Gaussian fits for the KL-direction demo, probabilistic PCA (06, 07)

and, for the summary (08):
    series       every model of the series behind one interface, and the measures that compare them

and, for the website (`make site`, not imported here):
    web          what the kernel does while the site is built: figures' alt text, widgets' web forms
"""
from . import cache, checks, data, drawing, errors, evaluate, losses, models, plots, train, widgets  # noqa: F401
