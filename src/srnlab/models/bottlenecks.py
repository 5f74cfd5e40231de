"""Modules that sit at the bottleneck and carry (or do not carry) a state from scale to scale.

Every bottleneck maps (x, state) -> (out, new_state); the state is a tuple of feature maps that the
ScaleRecurrentNet resizes bilinearly to the next scale, or None before the coarsest scale.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from srnlab.models.blocks import conv

State = tuple[Tensor, ...] | None


class ConvLSTM(nn.Module):
    """Convolutional LSTM (Shi et al. 2015) as in the official SRN code: one convolution over [x, h] gives
    the four gates, 1 is added to the forget gate's input, and h (not the cell) goes on to the decoder."""

    forget_bias = 1.0  # official code (BasicConvLSTMCell, forget_bias=1.0)

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.gates = conv(2 * channels, 4 * channels, kernel_size)

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state if state is not None else (torch.zeros_like(x), torch.zeros_like(x))
        i, f, o, g = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f + self.forget_bias) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class ConvRNN(nn.Module):
    """Vanilla convolutional RNN of the 'RNN' row: h = tanh(U*x + W*h_prev), out = V*h (linear)."""

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.u = conv(channels, channels, kernel_size)
        self.w = conv(channels, channels, kernel_size)
        self.v = conv(channels, channels, kernel_size)

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        h_prev = state[0] if state is not None else torch.zeros_like(x)
        h = torch.tanh(self.u(x) + self.w(h_prev))
        return self.v(h), (h,)


class ConvBottleneck(nn.Module):
    """One conv + ReLU with no state: the 'w/o R', SS and SC rows (recurrence removed, depth kept)."""

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv = conv(channels, channels, kernel_size)

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        return torch.relu(self.conv(x)), None


class IdentityBottleneck(nn.Module):
    """Nothing at the bottleneck: the encoder feeds the decoder directly."""

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        return x, None
