"""Tensors and NumPy: one way from a torch tensor (on any device) to a NumPy array."""
from __future__ import annotations

import numpy as np
import torch


def to_numpy(x) -> np.ndarray:
    """A tensor (detached, moved to the CPU) or anything array-like, as a NumPy array."""
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
