"""Fully connected (MLP) encoders, decoders and autoencoders.

An autoencoder is two networks: the encoder E maps an image x to a short code z, the decoder G
maps the code back to an image x_hat. Both are stacks of Linear layers with an activation in
between; the sizes are given as one list, e.g. [784, 1000, 500, 250, 2] (Hinton and
Salakhutdinov 2006), and the decoder mirrors it.
"""
from __future__ import annotations

import torch
from torch import nn

from .errors import check_sizes

ACTIVATIONS = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
}


def make_activation(name: str | None) -> nn.Module:
    """'relu', 'sigmoid', 'tanh', 'softplus', or None / 'identity' for no activation."""
    key = "identity" if name is None else name.lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}: choose from {sorted(ACTIVATIONS)} or None")
    return ACTIVATIONS[key]()


def mlp(sizes: list[int], activation: str | None = "relu",
        out_activation: str | None = None) -> nn.Sequential:
    """Linear layers sizes[0] -> sizes[1] -> ... -> sizes[-1], `activation` between them and
    `out_activation` after the last one."""
    sizes = check_sizes("sizes", sizes)          # at least an input and an output size
    make_activation(activation), make_activation(out_activation)   # fail early on a typo
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        last = i == len(sizes) - 2
        layers.append(make_activation(out_activation if last else activation))
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """x -> encoder -> z -> decoder -> x_hat, with the decoder mirroring the encoder's sizes.

    sizes:           encoder layer sizes, input first and code size last, e.g. [784, 256, 32]
    activation:      between hidden layers (both networks)
    code_activation: on the code z (None keeps it linear, as in Hinton and Salakhutdinov 2006)
    out_activation:  on x_hat ('sigmoid' keeps pixels in [0, 1])
    """

    def __init__(self, sizes: list[int], activation: str | None = "relu",
                 code_activation: str | None = None, out_activation: str | None = "sigmoid"):
        super().__init__()
        sizes = check_sizes("sizes", sizes)
        self.config = dict(kind="Autoencoder", sizes=list(sizes), activation=activation,
                           code_activation=code_activation, out_activation=out_activation)
        self.encoder = mlp(list(sizes), activation, code_activation)
        self.decoder = mlp(list(sizes)[::-1], activation, out_activation)

    @property
    def code_size(self) -> int:
        return self.config["sizes"][-1]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def set_output_bias_to_mean_pixel(model: nn.Module, x_train: torch.Tensor, clip: float = 1e-3) -> None:
    """Start the decoder at the average training image: for a decoder that ends in a Linear layer
    and a sigmoid, the bias of that layer becomes logit(mean of each pixel over x_train), the
    mean clipped to [clip, 1 - clip] so that the logit stays finite; the sigmoid then gives each
    pixel's mean whatever the code. Why it helps on 4,000 digits: training no longer spends its
    first steps learning that the border pixels are black, so the few passes we can afford go
    into the shapes of digits (Burda, Grosse and Salakhutdinov 2016, the IWAE code)."""
    layers = list(model.decoder)
    if len(layers) < 2 or not isinstance(layers[-2], nn.Linear) or not isinstance(layers[-1], nn.Sigmoid):
        raise ValueError("set_output_bias_to_mean_pixel needs a decoder that ends in a Linear layer "
                         "and a sigmoid (pixels in (0, 1))")
    mean = x_train.float().mean(dim=0).clamp(clip, 1 - clip)
    with torch.no_grad():
        layers[-2].bias.copy_(torch.log(mean) - torch.log1p(-mean))


def first_layer_filters(model: nn.Module) -> torch.Tensor:
    """The weights of the first Linear layer as images: (hidden units, 28, 28). Each row of the
    weight matrix is what one hidden unit 'looks for' in the input."""
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    weight = first.weight.detach().cpu()
    side = int(round(weight.shape[1] ** 0.5))
    return weight.reshape(-1, side, side)


def device_of(model: nn.Module) -> torch.device:
    """The device a model's weights are on (inputs must go there too)."""
    return next(model.parameters()).device


@torch.no_grad()
def encode_all(model: nn.Module, x: torch.Tensor, batch_size: int = 2048):
    """model.encode of all rows of x, in evaluation mode and batches, returned on the CPU.
    For a VAE, whose encode gives (mu, logvar), a pair of tensors."""
    return apply_in_batches(model.encode, model, x, batch_size)


@torch.no_grad()
def decode_all(model: nn.Module, z: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """model.decode of all rows of z, in evaluation mode and batches, returned on the CPU."""
    return apply_in_batches(model.decode, model, z, batch_size)


@torch.no_grad()
def reconstruct_all(model: nn.Module, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """x_hat for all rows of x, in evaluation mode and batches, returned on the CPU."""
    return apply_in_batches(model, model, x, batch_size)


@torch.no_grad()
def apply_in_batches(fn, model: nn.Module, x: torch.Tensor, batch_size: int = 2048):
    """fn (a function of `model`) on batches of x moved to the model's device, in evaluation
    mode (the model's mode is restored after), with the results joined on the CPU. When fn
    returns a tuple of tensors, so does this."""
    was_training = model.training
    model.eval()
    device = device_of(model)
    try:
        out = [fn(x[i:i + batch_size].to(device)) for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    if isinstance(out[0], tuple):
        return tuple(torch.cat([part[j] for part in out]).cpu() for j in range(len(out[0])))
    return torch.cat([part.cpu() for part in out])
