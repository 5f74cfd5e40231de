"""What a network costs: its parameters and the FLOPs of a forward pass or a training step, measured on the
meta device where possible (shapes only: no memory, no compute), so that even the paper-size variants are
measured in milliseconds on any machine."""

from __future__ import annotations

import copy

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

FLOP_SIZE = (720, 1280)  # one GOPRO frame (H, W)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def forward_gflops(net: nn.Module, size: tuple[int, int] = FLOP_SIZE) -> float:
    """Forward GFLOPs (1 multiply-add = 2 FLOPs) for one image, counted on the meta device: no compute."""
    meta_net = _to_meta(net)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta_net(torch.empty(1, meta_net.in_channels, *size, device="meta"))
    return counter.get_total_flops() / 1e9


def train_step_gflops(cfg: DictConfig) -> float:
    """GFLOPs of one training step of a composed training config (forward and backward of a batch of
    `data.batch_size` crops of `data.crop_size`), counted on the meta device: no memory, no compute."""
    crop = cfg.data.crop_size
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        net = instantiate(cfg.model.net)
        outputs = net(torch.empty(cfg.data.batch_size, net.in_channels, crop, crop))
        sum(out.square().mean() for out in outputs).backward()
    return counter.get_total_flops() / 1e9


def _to_meta(net: nn.Module) -> nn.Module:
    """A shape-only twin of the network; the original keeps its weights and device."""
    twin = copy.deepcopy(net)
    return twin.to_empty(device="meta")


def full_width_parameters(net_cfg: DictConfig) -> int:
    """The parameter count of this net config at the paper's widths, built on the meta device (no memory)."""
    with torch.device("meta"):
        return count_parameters(instantiate(net_cfg, width_mult=1.0))


def describe_variant(cfg: DictConfig, net: nn.Module) -> str:
    """One line that says what a run trains, measured against the paper's network."""
    width = float(cfg.model.net.width_mult)
    extension = " with the global residual (not in the paper)" if cfg.model.net.get("residual") else ""
    head = f"{cfg.variant.name}{extension} at {'full width' if width == 1.0 else f'width x{width:g}'}"
    head += f" (profile {cfg.get('profile_name') or 'none'}): {count_parameters(net):,} parameters"
    if width == 1.0:
        return head + ", the paper's construction"
    full = full_width_parameters(cfg.model.net)
    if not cfg.variant.get("paper"):
        return head + f"; {full:,} at full width"
    return head + f"; the paper's {cfg.variant.name} has {full:,} (use profile=gpu or profile=paper)"
