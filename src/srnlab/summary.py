"""`srn-summary`: parameter counts and forward FLOPs of every Table 1 variant, next to the paper's counts."""

from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from srnlab.config import TABLE1_IDS, compose_config

FLOP_SIZE = (720, 1280)  # one GOPRO frame (H, W)


@dataclass(frozen=True)
class VariantSummary:
    id: str
    name: str
    params: int
    gflops: float
    paper: dict[str, float] | None  # the paper's params, psnr and ssim for this row (experiment config)

    @property
    def paper_params(self) -> int | None:
        return int(self.paper["params"]) if self.paper else None


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


def summarize(experiment_id: str, extra_overrides: tuple[str, ...] = ()) -> VariantSummary:
    """Build the variant exactly as training would (full width, whatever the profile) and measure it."""
    cfg = compose_config("train", [f"experiment=table1/{experiment_id}", "model.net.width_mult=1.0", *extra_overrides])
    net = instantiate(cfg.model.net)
    return VariantSummary(
        id=cfg.variant.id,
        name=cfg.variant.name,
        params=count_parameters(net),
        gflops=forward_gflops(net),
        paper=OmegaConf.to_container(cfg.variant.paper) if cfg.variant.paper else None,
    )


def format_table(rows: list[VariantSummary]) -> str:
    lines = [
        "| id | model | params (ours) | params (paper) | GFLOPs @1280x720 |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        paper = f"{r.paper_params / 1e6:.2f}M" if r.paper_params else "-"
        lines.append(f"| {r.id} | {r.name} | {r.params:,} | {paper} | {r.gflops:,.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ids", nargs="*", default=list(TABLE1_IDS), help="Table 1 experiment ids (default: all)")
    args = parser.parse_args(argv)
    print(format_table([summarize(i) for i in args.ids]))


if __name__ == "__main__":
    main()
