"""Measuring codes and reconstructions: the PCA baseline, nearest-neighbour accuracy,
principal angles between subspaces, and retrieval. All take and return CPU tensors or NumPy.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from .tensors import to_numpy


class PCACodec:
    """PCA as an 'autoencoder': encode = project onto the top-k principal components,
    decode = map back to pixels. The linear baseline every autoencoder is measured against."""

    def __init__(self, x_train: torch.Tensor, k: int):
        self.k = k
        # Eigenvectors of the 784 x 784 covariance: the same directions as an SVD of the data,
        # 20 times faster when there are many more images than pixels. float64 keeps it exact.
        self.pca = PCA(n_components=k, svd_solver="covariance_eigh").fit(to_numpy(x_train).astype(np.float64))

    @property
    def components(self) -> np.ndarray:
        """(784, k): the principal directions as columns."""
        return self.pca.components_.T

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(self.pca.transform(to_numpy(x)), dtype=torch.float32)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(self.pca.inverse_transform(to_numpy(z)), dtype=torch.float32)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def knn_accuracy(codes_train, y_train, codes_test, y_test, k: int = 5) -> float:
    """Share of test codes whose k nearest training codes vote for the right label: how well
    the code keeps the classes apart, without training anything on the labels but the vote."""
    knn = KNeighborsClassifier(n_neighbors=k).fit(to_numpy(codes_train), to_numpy(y_train))
    return float(knn.score(to_numpy(codes_test), to_numpy(y_test)))


def principal_angles_degrees(a, b) -> np.ndarray:
    """Principal angles between the column spaces of a (D, k) and b (D, k), in degrees, largest
    first. All zero means the two matrices span the same subspace."""
    return np.degrees(subspace_angles(to_numpy(a), to_numpy(b)))


def nearest_neighbours(query, database, n: int = 5) -> np.ndarray:
    """Indices (len(query), n) of the n rows of `database` closest to each query row (Euclidean)."""
    nn_index = NearestNeighbors(n_neighbors=n).fit(to_numpy(database))
    return nn_index.kneighbors(to_numpy(query), return_distance=False)


def retrieval_precision(query_codes, query_labels, database_codes, database_labels,
                        n: int = 5) -> float:
    """Share of the n nearest database items that have the query's label, averaged."""
    idx = nearest_neighbours(query_codes, database_codes, n)
    return float((to_numpy(database_labels)[idx] == to_numpy(query_labels)[:, None]).mean())


def filter_smoothness(filters) -> np.ndarray:
    """For each filter (H, 28, 28), the correlation between horizontally neighbouring weights:
    about 0 for random speckle (a network's starting point), near 1 for smooth strokes and blobs."""
    f = torch.as_tensor(filters, dtype=torch.float32)
    left = f[:, :, :-1].reshape(len(f), -1)
    right = f[:, :, 1:].reshape(len(f), -1)
    left = left - left.mean(dim=1, keepdim=True)
    right = right - right.mean(dim=1, keepdim=True)
    return ((left * right).sum(dim=1) / (left.norm(dim=1) * right.norm(dim=1) + 1e-12)).numpy()
