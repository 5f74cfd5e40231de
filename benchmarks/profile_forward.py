"""Where a 720p forward pass of SR-EDRB3 spends its time: a torch.profiler breakdown by kind of work.

The fast path (channels_last + the precision `auto` resolves to) and channels_last fp32, each with plain
modules and with oneDNN's fused convolutions (srnlab.infer.fusion), are each run once to warm up and once
under the profiler. Every profiled operator's own time (self CPU time) is charged to the
innermost convolution module it ran under (a 2-D convolution or a transposed one: their weight reorders and
layout conversions included), or else to a kind named by the operator: resizes between scales, layout copies,
concatenation, padding and cropping, activations (the ConvLSTM's gates included), other element-wise
arithmetic. Numbers are seconds of one forward pass, so they compare only within one run and one machine.

Operator time leaves out what the kernel does for the process: each setting also reports the pass's wall
time, its minor page faults and the system CPU time they cost, with glibc's own malloc thresholds
(`--system-malloc`) or with freed memory kept for reuse (srnlab.infer.memory, the default, as the commands).

    python benchmarks/profile_forward.py --out benchmarks/forward_profile.md
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import torch
from bench_model import Setting, build_net, prepare
from torch import nn
from torch.autograd.profiler_util import FunctionEvent
from torch.profiler import ProfilerActivity, profile, record_function

from srnlab.infer.fusion import FusedConv2d, FusedConvTranspose2d, InferenceFusion
from srnlab.infer.memory import keep_freed_memory
from srnlab.precision import AUTO, FP32, PrecisionChoice, autocast, cpu_name, resolve_precision

MODULE_SCOPE = "module::"
CONV_KINDS = {
    nn.ConvTranspose2d: "transposed convolutions",
    FusedConvTranspose2d: "transposed convolutions",
    nn.Conv2d: "convolutions",
    FusedConv2d: "convolutions",
}
OP_KINDS = (  # first match wins: substrings of aten operator names
    ("upsample", "resizes between scales"),
    ("interpolate", "resizes between scales"),
    ("grid_sampler", "resizes between scales"),
    ("copy_", "layout conversions and copies"),
    ("contiguous", "layout conversions and copies"),
    ("clone", "layout conversions and copies"),
    ("to_dense", "layout conversions and copies"),
    ("to_mkldnn", "layout conversions and copies"),
    ("cat", "concatenation"),
    ("pad", "padding and cropping"),
    ("slice", "padding and cropping"),
    ("narrow", "padding and cropping"),
    ("relu", "activations"),
    ("clamp_min", "activations"),  # an in-place ReLU runs as clamp_min_
    ("sigmoid", "activations"),
    ("tanh", "activations"),
    ("add", "other element-wise"),
    ("mul", "other element-wise"),
    ("sub", "other element-wise"),
    ("div", "other element-wise"),
    ("clamp", "other element-wise"),
)


def label_convolutions(net: nn.Module) -> None:
    """Run every convolution module inside a profiler scope named by its kind."""
    for module in net.modules():
        kind = next((k for cls, k in CONV_KINDS.items() if isinstance(module, cls)), None)
        if kind is None:
            continue

        def enter(mod: nn.Module, args: object, scope: str = MODULE_SCOPE + kind) -> None:
            mod._profile_scope = record_function(scope)
            mod._profile_scope.__enter__()

        def leave(mod: nn.Module, args: object, output: object) -> None:
            mod._profile_scope.__exit__(None, None, None)

        module.register_forward_pre_hook(enter)
        module.register_forward_hook(leave)


def kind_of(event: FunctionEvent) -> str:
    """The convolution scope an operator ran in, else the kind its name says."""
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith(MODULE_SCOPE):
            return parent.name.removeprefix(MODULE_SCOPE)
        parent = parent.cpu_parent
    name = event.name.removeprefix("aten::")
    return next((kind for key, kind in OP_KINDS if key in name), "other")


def breakdown(events: Iterable[FunctionEvent]) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per kind of work and per operator (self time of every operator, scopes excluded)."""
    kinds: dict[str, float] = defaultdict(float)
    ops: dict[str, float] = defaultdict(float)
    for event in events:
        if event.name.startswith(MODULE_SCOPE):
            continue
        seconds = event.self_cpu_time_total / 1e6
        kinds[kind_of(event)] += seconds
        ops[event.name] += seconds
    return dict(kinds), dict(ops)


def profile_forward(setting: Setting, size: tuple[int, int]) -> tuple[dict[str, float], dict[str, float], str]:
    """Seconds per kind of work and per operator, and a line on what the operators do not show."""
    device = torch.device("cpu")
    net, layout = prepare(build_net("sr_edrb3", device).eval(), setting, device)
    blur = layout(torch.rand(1, 3, *size))
    choice = PrecisionChoice(setting.precision, "benchmark")
    with torch.inference_mode(), autocast(choice, device):
        net = InferenceFusion(setting.fuse)(net)
    label_convolutions(net)

    def forward() -> None:
        with torch.inference_mode(), autocast(choice, device):
            net(blur)

    forward()
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    forward()
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    faults, system = after.ru_minflt - before.ru_minflt, after.ru_stime - before.ru_stime
    hidden = f"wall time {wall:.2f} s; {faults:,} minor page faults, {system:.2f} s of system CPU time (all threads)"
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        forward()
    kinds, ops = breakdown(prof.events())
    return kinds, ops, hidden


def table(title: str, kinds: dict[str, float], ops: dict[str, float], hidden: str, top: int) -> list[str]:
    total = sum(kinds.values())
    lines = [f"### {title}: {total:.2f} s of operator time", "", f"Unprofiled pass: {hidden}.", ""]
    lines += ["| kind of work | seconds | share |", "|---|---:|---:|"]
    for kind, seconds in sorted(kinds.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {kind} | {seconds:.3f} | {seconds / total:.0%} |")
    lines += ["", "| operator (self time) | seconds | share |", "|---|---:|---:|"]
    for name, seconds in sorted(ops.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"| `{name}` | {seconds:.3f} | {seconds / total:.0%} |")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs=2, default=(720, 1280), metavar=("H", "W"))
    parser.add_argument("--top", type=int, default=12, help="operators listed per setting")
    parser.add_argument("--out", type=Path, help="also write the report (Markdown) to this file")
    parser.add_argument("--system-malloc", action="store_true", help="leave glibc's thresholds (srnlab.infer.memory)")
    args = parser.parse_args(argv)
    kept = not args.system_malloc and keep_freed_memory()
    auto = resolve_precision("auto", "cpu")
    fast = f"fast path (channels_last + {auto.precision})"
    settings = [Setting(f"{fast}, plain modules", AUTO, auto.precision, fuse=False),
                Setting(f"{fast}, fused convolutions", AUTO, auto.precision),
                Setting("channels_last fp32, plain modules", True, FP32, fuse=False),
                Setting("channels_last fp32, fused convolutions", True, FP32)]  # fmt: skip
    lines = [
        f"# SR-EDRB3 {args.size[0]}x{args.size[1]} forward, profiled",
        "",
        f"- CPU: {cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
        f"- freed memory kept for reuse (srnlab.infer.memory): {'yes' if kept else 'no'}",
        "",
    ]
    for setting in settings:
        kinds, ops, hidden = profile_forward(setting, tuple(args.size))
        lines += table(setting.name, kinds, ops, hidden, args.top)
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report)


if __name__ == "__main__":
    main()
