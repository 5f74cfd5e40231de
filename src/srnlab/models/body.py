"""The interface a scale-recurrent network asks of its body: what EncoderDecoder and FlatBody both provide,
and what a new body (a researcher's own ablation) must provide to plug into `model/body`."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor, nn


@runtime_checkable
class Body(Protocol):
    """One scale's image-to-image network, split around the recurrent bottleneck.

    `encode` maps the scale's input (blurry image and upsampled previous estimate) to bottleneck features and
    the skip connections `decode` needs; `decode` maps the bottleneck's output and those skips to the
    estimate. Inputs are padded to a multiple of `size_multiple` pixels first; `bottleneck_channels` sizes
    the recurrent module; `output_conv` is the last convolution (zeroed for the global residual).
    """

    size_multiple: int
    bottleneck_channels: int

    @property
    def output_conv(self) -> nn.Conv2d: ...

    def encode(self, x: Tensor) -> tuple[Tensor, list[Tensor]]: ...

    def decode(self, h: Tensor, skips: list[Tensor]) -> Tensor: ...
