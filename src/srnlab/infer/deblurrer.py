"""A trained scale-recurrent network as a function from a blurry image to a sharp one: what `srn-deblur` runs
on photos and their tiles, what srn-table1's example panels show, and what `DeblurModule.forward` computes.

This path needs torch and the network's own modules only. Lightning and torchmetrics take about 9 s to import
on a 2-core CPU, ten times what the shipped network needs to deblur a 720p photo there, so nothing here
imports them and `srn-deblur` starts in the time torch takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from srnlab.infer.fusion import InferenceFusion
from srnlab.infer.self_ensemble import self_ensemble
from srnlab.precision import AUTO, resolve_channels_last
from srnlab.runs.weights import load_network


def use_layout(net: nn.Module, requested: bool | str, device: torch.device, training: bool) -> bool:
    """Lay the weights out as `model.channels_last` asks for this device and task (auto: where measured faster,
    srnlab.precision.resolve_channels_last); True when they are now NHWC. NHWC lets oneDNN and cuDNN pick their
    fast convolution kernels without a layout conversion around every layer; inputs follow (`in_layout`)."""
    channels_last = resolve_channels_last(requested, device, training)
    net.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    return channels_last


def in_layout(images: Tensor, channels_last: bool) -> Tensor:
    """Images in the memory layout of the network's weights."""
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def finest_estimate(net: nn.Module, channels_last: bool, blur: Tensor) -> Tensor:
    return net(in_layout(blur, channels_last))[-1]


def deblur(net: nn.Module, blur: Tensor, channels_last: bool, ensemble: bool = False) -> Tensor:
    """The finest-scale estimate of N x C x H x W `blur`, the deblurred image; with `ensemble`, the mean of the
    eight orientations' estimates (srnlab.infer.self_ensemble), which training never uses."""
    estimate = partial(finest_estimate, net, channels_last)
    return self_ensemble(estimate, blur) if ensemble else estimate(blur)


class Deblurrer(nn.Module):
    """A trained network ready to deblur: eval mode, fp32 weights in the layout measured fastest for inference
    on its device, run through oneDNN's fused convolutions on a CPU (`fuse`, srnlab.infer.fusion). `hparams`
    are those its file was saved with (at least the net config and the variant)."""

    def __init__(
        self, net: nn.Module, hparams: Mapping[str, Any], self_ensemble: bool = False, fuse: bool | str = AUTO
    ) -> None:
        super().__init__()
        self.net = net
        self.hparams = dict(hparams)
        self.self_ensemble = self_ensemble
        self.fusion = InferenceFusion(fuse)
        self.use_layout_for(next(net.parameters()).device)
        self.eval()

    def use_layout_for(self, device: torch.device) -> None:
        self.channels_last = use_layout(self.net, self.hparams.get("channels_last", AUTO), device, training=False)

    def forward(self, blur: Tensor) -> Tensor:
        return deblur(self.fusion(self.net), blur, self.channels_last, self.self_ensemble)

    @classmethod
    def load(
        cls,
        path: str | Path,
        map_location: str | torch.device = "cpu",
        *,
        trust: bool = False,
        self_ensemble: bool = False,
        fuse: bool | str = AUTO,
    ) -> Deblurrer:
        """From a training checkpoint (read weights-only unless `trust`) or a safetensors weights file."""
        net, hparams = load_network(path, map_location, trust=trust)
        return cls(net, hparams, self_ensemble, fuse)
