"""Measurements: PCA baseline, neighbours, angles, filter smoothness. (The exercise checkers
are tested in test_checks.py.)"""
import numpy as np
import pytest
import torch

from helpers import evaluate


def test_pca_codec_round_trip_and_components():
    g = torch.Generator().manual_seed(0)
    # points on a 3-D subspace of 784-D space: 3 components reconstruct them exactly
    basis = torch.linalg.qr(torch.randn(784, 3, generator=g)).Q
    x = torch.randn(100, 3, generator=g) @ basis.T + 0.5
    codec = evaluate.PCACodec(x, 3)
    assert codec.encode(x).shape == (100, 3) and codec.components.shape == (784, 3)
    assert torch.allclose(codec.reconstruct(x), x, atol=1e-4)
    assert evaluate.principal_angles_degrees(codec.components, basis).max() < 1e-2


def test_principal_angles_of_known_subspaces():
    e = np.eye(4)
    assert np.allclose(evaluate.principal_angles_degrees(e[:, :2], e[:, [1, 0]]), 0, atol=1e-6)
    assert np.allclose(evaluate.principal_angles_degrees(e[:, :2], e[:, 2:]), 90)
    tilted = np.stack([np.array([1, 0, 0, 0]), np.array([0, np.cos(0.3), np.sin(0.3), 0])], axis=1)
    assert np.allclose(sorted(evaluate.principal_angles_degrees(e[:, :2], tilted)), [0, np.degrees(0.3)], atol=1e-6)


def test_knn_accuracy_and_retrieval_on_separable_and_shuffled_labels():
    codes = torch.cat([torch.zeros(20, 2), torch.full((20, 2), 10.0)]) + torch.rand(40, 2)
    labels = torch.cat([torch.zeros(20), torch.ones(20)]).long()
    assert evaluate.knn_accuracy(codes, labels, codes, labels) == 1.0
    assert evaluate.retrieval_precision(codes, labels, codes, labels, n=5) == 1.0
    wrong = 1 - labels
    assert evaluate.knn_accuracy(codes, labels, codes, wrong) == 0.0
    assert evaluate.nearest_neighbours(codes[:1], codes, n=1)[0, 0] == 0


def test_filter_smoothness_separates_speckle_from_smooth_shapes():
    g = torch.Generator().manual_seed(0)
    speckle = torch.randn(50, 28, 28, generator=g)
    xs = torch.linspace(-1, 1, 28)
    blob = torch.exp(-(xs[None, :] ** 2 + xs[:, None] ** 2) * 4)
    smooth = blob.expand(5, 28, 28)
    assert abs(evaluate.filter_smoothness(speckle).mean()) < 0.05
    assert evaluate.filter_smoothness(smooth).min() > 0.9
