"""Model speed against the machine's own ceiling: one process, so every ratio holds on a noisy machine.

For each variant (full width), times a 720p forward (no grad, inference mode) and a training step (batch 4
of 256x256, Adam) along several paths: today's default before the speed work (fp32, NCHW), channels_last,
and the fast path `srn-train` now takes by default (channels_last + the precision `auto` resolves to here).
Forward passes run as srn-deblur runs them: with oneDNN's fused convolutions on a CPU (`model.fuse`,
srnlab.infer.fusion; the `unfused` rows show the same path without) and with freed memory kept for reuse
(srnlab.infer.memory; `--system-malloc` measures glibc's own behaviour instead).
On a GPU it also times TF32, bf16 and, with --compile, torch.compile. Each time is the median of
--repeats runs after a warm-up, and is printed as seconds, GFLOP/s (FLOPs counted by torch's FlopCounterMode,
1 multiply-add = 2 FLOPs) and the fraction of the matching matmul ceiling (fp32 or bf16) measured here.

Run: `make bench-model` (SR-EDRB3), or `python benchmarks/bench_model.py --variants sr_edrb3 srn_full sr_flat`.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from hydra.utils import instantiate
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from srnlab.config import compose_config, experiment_path
from srnlab.infer.fusion import InferenceFusion
from srnlab.infer.memory import keep_freed_memory
from srnlab.lit.graphed_step import GraphedLoss
from srnlab.lit.losses import multiscale_mse
from srnlab.models.measure import forward_gflops
from srnlab.precision import (
    AUTO,
    BF16,
    FP32,
    PrecisionChoice,
    autocast,
    cpu_name,
    resolve_channels_last,
    resolve_precision,
)


@dataclass(frozen=True)
class Setting:
    """One way of running the network: memory layout, precision, TF32 and compilation."""

    name: str
    channels_last: bool | str  # or "auto": what srn-train / srn-deblur resolve it to for the task
    precision: str
    tf32: bool = False
    compile: bool = False
    fuse: bool | str = AUTO  # inference only (srnlab.infer.fusion); training steps never fuse
    train: bool = True  # also time a training step (not for settings that differ only at inference)
    forward: bool = True  # also time a forward pass (not for settings that differ only in training)
    graphs: bool = False  # the training step's forward + loss compiled and replayed (srnlab.lit.graphed_step)


@dataclass(frozen=True)
class Timing:
    task: str
    setting: str
    seconds: float
    gflop: float
    ceiling: float

    @property
    def gflops(self) -> float:
        return self.gflop / self.seconds

    def row(self) -> str:
        return (
            f"| {self.task} | {self.setting} | {self.seconds:.3f} | {self.gflops:,.0f} | "
            f"{self.gflops / self.ceiling:.2f} |"
        )


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextlib.contextmanager
def tf32(enabled: bool) -> Iterator[None]:
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def matmul_ceiling(device: torch.device, dtype: torch.dtype, n: int, repeats: int, allow_tf32: bool = False) -> float:
    """GFLOP/s of an n x n x n matrix product: the practical peak the convolutions are compared with."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    with tf32(allow_tf32):
        seconds = median_seconds(lambda: a @ b, device, repeats, warmup=2)
    return 2 * n**3 / seconds / 1e9


def build_net(variant: str, device: torch.device) -> nn.Module:
    cfg = compose_config("train", [f"experiment={experiment_path(variant)}"])
    cfg.model.net.width_mult = 1.0
    torch.manual_seed(0)
    return instantiate(cfg.model.net).to(device)


def count_gflop(fn: Callable[[], object]) -> float:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 1e9


def prepare(
    net: nn.Module, setting: Setting, device: torch.device
) -> tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor]]:
    """The network in the setting's layout (compiled if asked) and a function that lays out its inputs."""
    nhwc = resolve_channels_last(setting.channels_last, device, training=net.training)
    layout = torch.channels_last if nhwc else torch.contiguous_format
    net = net.to(memory_format=layout)
    if setting.compile:
        net = torch.compile(net, dynamic=False)
    return net, lambda x: x.contiguous(memory_format=layout)


def bench_forward(net: nn.Module, setting: Setting, size: tuple[int, int], device: torch.device, repeats: int) -> float:
    net, layout = prepare(net.eval(), setting, device)
    blur = layout(torch.rand(1, 3, *size, device=device))
    choice = PrecisionChoice(setting.precision, "benchmark")
    fusion = InferenceFusion(setting.fuse)

    def forward() -> object:
        with torch.inference_mode(), autocast(choice, device), tf32(setting.tf32):
            return fusion(net)(blur)[-1]

    return median_seconds(forward, device, repeats)


def bench_train_step(
    net: nn.Module, setting: Setting, batch: int, crop: int, device: torch.device, repeats: int
) -> tuple[float, float]:
    """Seconds per Adam step, and the GFLOP of one step (forward + backward)."""
    net, layout = prepare(net.train(), setting, device)
    blur, sharp = (layout(torch.rand(batch, 3, crop, crop, device=device)) for _ in range(2))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    choice = PrecisionChoice(setting.precision, "benchmark")
    eager = lambda b, s: multiscale_mse(net(b), s)  # noqa: E731
    loss_of = GraphedLoss(eager) if setting.graphs else eager

    def step(loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = loss_of) -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(choice, device), tf32(setting.tf32):
            loss = loss_fn(blur, sharp)
        loss.backward()
        optimizer.step()

    seconds = median_seconds(step, device, repeats, warmup=3 if setting.graphs else 1)
    return seconds, count_gflop(lambda: step(eager))  # the FLOP counter sees eager operators only


def label(setting: Setting, device: torch.device, training: bool) -> str:
    """The setting's name, with the layout `auto` chose for this task."""
    if setting.channels_last != AUTO:
        return setting.name
    return f"{setting.name}, {'NHWC' if resolve_channels_last(AUTO, device, training) else 'NCHW'}"


def settings_for(
    device: torch.device, auto: PrecisionChoice, with_compile: bool, with_graphs: bool = False
) -> dict[str, Setting]:
    """The settings worth timing on this device, by short key (what --only selects)."""
    fast = Setting(f"fast path: auto layout + auto precision ({auto.precision})", AUTO, auto.precision)
    if device.type == "cpu":
        settings = {"nchw": Setting("default before: fp32 NCHW", False, FP32, fuse=False)}
        settings["channels_last_unfused"] = Setting("channels_last fp32, unfused", True, FP32, fuse=False, train=False)
        settings["channels_last"] = Setting("channels_last fp32", True, FP32)
        settings["fast_unfused"] = Setting(f"{fast.name}, unfused", AUTO, auto.precision, fuse=False, train=False)
        settings["fast"] = fast
    else:
        settings = {
            "nchw": Setting("default before: fp32 NCHW (no TF32)", False, FP32),
            "tf32": Setting("TF32 NCHW", False, FP32, tf32=True),
            "tf32_channels_last": Setting("TF32 channels_last", True, FP32, tf32=True),
            "bf16": Setting("bf16 NCHW", False, BF16),
            "fast": fast,
        }
    if with_graphs:
        name = f"fast path + CUDA graphs ({auto.precision}, training step compiled, reduce-overhead)"
        settings["graphs"] = Setting(name, AUTO, auto.precision, graphs=True, forward=False)
    if with_compile:
        settings["compiled"] = Setting(f"compiled fast path ({auto.precision})", AUTO, auto.precision, compile=True)
    return settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["sr_edrb3"], help="Table 1 ids, srn_full or release/<model>")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, nargs=2, default=(720, 1280), metavar=("H", "W"), help="forward size")
    parser.add_argument("--batch", type=int, default=4, help="training batch (issue: 4)")
    parser.add_argument("--crop", type=int, default=256, help="training crop side (paper: 256)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (minutes of compiling)")
    parser.add_argument(
        "--graphs", action="store_true", help="also time the training step with CUDA graphs (compiles: minutes)"
    )
    parser.add_argument("--only", nargs="+", help="time only these settings (nchw, channels_last, fast, compiled, ...)")
    parser.add_argument("--out", type=Path, help="also write the report (Markdown) to this file")
    parser.add_argument("--system-malloc", action="store_true", help="leave glibc's thresholds (srnlab.infer.memory)")
    args = parser.parse_args(argv)
    kept = not args.system_malloc and keep_freed_memory()
    device = torch.device(args.device)
    auto = resolve_precision("auto", device.type)
    threads = f"{torch.get_num_threads()} threads"
    lines = [f"- torch {torch.__version__}, {threads}, precision auto: {auto.precision} ({auto.reason})"]
    lines.append(f"- freed memory kept for reuse (srnlab.infer.memory): {'yes' if kept else 'no'}")
    if device.type == "cpu":
        lines.insert(0, f"- CPU: {cpu_name()}, capability {torch.backends.cpu.get_cpu_capability()}")
        n = 2048
        ceilings = {FP32: matmul_ceiling(device, torch.float32, n, args.repeats)}
        # emulated bf16 (no AMX/AVX512-BF16) runs at a few GFLOP/s: a smaller product keeps this short
        ceilings[BF16] = matmul_ceiling(device, torch.bfloat16, n if auto.precision == BF16 else 512, args.repeats)
    else:
        lines.insert(0, f"- GPU: {torch.cuda.get_device_name(device)}; CPU: {cpu_name()}")
        n = 8192
        ceilings = {FP32: matmul_ceiling(device, torch.float32, n, args.repeats)}
        ceilings["tf32"] = matmul_ceiling(device, torch.float32, n, args.repeats, allow_tf32=True)
        ceilings[BF16] = matmul_ceiling(device, torch.bfloat16, n, args.repeats)
    lines += [f"- matmul ceiling {k}: {v:,.0f} GFLOP/s" for k, v in ceilings.items()]
    print("\n".join(lines), flush=True)
    table = ["", "| task | setting | seconds | GFLOP/s | fraction of ceiling |", "|---|---|---:|---:|---:|"]
    print("\n".join(table), flush=True)
    for variant in args.variants:
        net = build_net(variant, device)
        fwd_gflop = forward_gflops(net, tuple(args.size))
        settings = settings_for(device, auto, args.compile, args.graphs)
        for setting in [settings[k] for k in args.only or settings if k in settings]:
            ceiling = ceilings[BF16] if setting.precision == BF16 else ceilings["tf32" if setting.tf32 else FP32]
            if setting.forward:
                seconds = bench_forward(net, setting, tuple(args.size), device, args.repeats)
                h, w = args.size
                task = f"{variant} forward {w}x{h}"
                table.append(Timing(task, label(setting, device, False), seconds, fwd_gflop, ceiling).row())
                print(table[-1], flush=True)
            if not setting.train:
                continue
            seconds, step_gflop = bench_train_step(net, setting, args.batch, args.crop, device, args.repeats)
            row = Timing(
                f"{variant} train step {args.batch}x{args.crop}^2",
                label(setting, device, True),
                seconds,
                step_gflop,
                ceiling,
            ).row()
            table.append(row)
            print(row, flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines + table) + "\n")


if __name__ == "__main__":
    main()
