"""Training throughput, samples per second, for the autoencoder the notebooks use most
(784-256-32-256-784, ReLU, sigmoid output, Adam, batch 128), three ways, interleaved A B C A B C:

- fit:        helpers.train.fit over tensors held in memory;
- minimal:    the shortest hand-written loop over the same tensors (the practical limit);
- dataloader: the pipeline common in public examples: a torchvision-style dataset that turns
              each uint8 image into a tensor with ToTensor, batched by a DataLoader.

Full-size data is used when present (Fashion-MNIST from Debian's dataset-fashion-mnist or from
data/, else full MNIST from data/), else the bundled 5,000-digit subset; the first line says which.
The last line printed is exactly `fit_vs_minimal=<ratio> fit_vs_dataloader=<ratio>`.
"""
from __future__ import annotations

import os
import statistics

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import ToTensor

from helpers import data as D
from helpers.losses import mse_per_pixel, reconstruction_loss
from helpers.models import Autoencoder
from helpers.timing import interleaved_rounds, seconds_of
from helpers.train import fit

SIZES = [784, 256, 32]
BATCH = 128
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))


def load_images():
    """Full-size images when we have them, else the subset. Returns (x float (N, 784), name)."""
    for source in ("fashion", "mnist"):
        try:
            full = D.load_full(source, D.DATA_DIR, download=False)
            return full.x_train, full.description
        except D.DataUnavailable:
            continue
    subset = D.load_subset()
    return subset.x_train, subset.description


class PerSampleImages(Dataset):
    """What torchvision's MNIST does per item: uint8 array -> PIL image -> ToTensor -> flatten."""

    def __init__(self, x: torch.Tensor):
        self.images = (x * 255).round().to(torch.uint8).reshape(-1, 28, 28).numpy()
        self.to_tensor = ToTensor()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.to_tensor(Image.fromarray(self.images[i], mode="L")).reshape(784)


def new_model(seed: int = 0) -> Autoencoder:
    torch.manual_seed(seed)
    return Autoencoder(SIZES)


def run_fit(x: torch.Tensor) -> float:
    """Samples per second of one epoch of helpers.train.fit."""
    model = new_model()
    return len(x) / seconds_of(lambda: fit(model, x, epochs=1, batch_size=BATCH, progress=False))


def run_minimal(x: torch.Tensor) -> float:
    """Samples per second of one epoch of the shortest hand-written loop."""
    model = new_model()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        order = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            batch = x[order[i:i + BATCH]]
            loss = mse_per_pixel(model(batch), batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return len(x) / seconds_of(epoch)


def run_dataloader(dataset: PerSampleImages) -> float:
    """Samples per second of one epoch through a per-sample dataset and a DataLoader."""
    model = new_model()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=0)

    def epoch():
        for batch in loader:
            loss = reconstruction_loss(model, batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return len(dataset) / seconds_of(epoch)


def main() -> None:
    x, description = load_images()
    print(f"data: {description}, {len(x):,} images; model {'-'.join(map(str, SIZES + SIZES[-2::-1]))}, "
          f"batch {BATCH}, {torch.get_num_threads()} threads, {ROUNDS} interleaved rounds of one epoch")
    dataset = PerSampleImages(x)
    warm_up = x[:5000]                  # first calls pay for allocation and thread start-up
    run_fit(warm_up), run_minimal(warm_up), run_dataloader(PerSampleImages(warm_up))
    rates = interleaved_rounds({"fit": lambda: run_fit(x), "minimal": lambda: run_minimal(x),
                                "dataloader": lambda: run_dataloader(dataset)}, ROUNDS)
    for i in range(ROUNDS):
        print(f"round {i + 1}: " + "  ".join(f"{k} {v[i]:,.0f}/s" for k, v in rates.items()))
    median = {k: statistics.median(v) for k, v in rates.items()}
    for name, rate in median.items():
        print(f"{name:10s} median {rate:10,.0f} samples/s")
    print(f"fit_vs_minimal={median['fit'] / median['minimal']:.2f} "
          f"fit_vs_dataloader={median['fit'] / median['dataloader']:.2f}")


if __name__ == "__main__":
    main()
