"""The fast path chosen by the hardware: bf16 where it is native, fp32 where bf16 would be emulated, and the
channels_last memory layout where it was measured faster.

bf16 autocast makes SR-EDRB3 4-5x faster on CPUs with AMX-BF16 and on bf16 GPUs, and 2.6-3.3x on an AMD
EPYC with AVX512-BF16 and no AMX, but on an AVX2-only CPU oneDNN emulates bf16 and the same network runs
about 10x slower than in fp32 (README, 'Speed'). So `auto` asks torch what the device can do and picks the
fast path only where it is fast.

`SRNLAB_CPU_BF16=off` makes any CPU count as one without native bf16 (the AVX2 machines' fp32 path) and `on`
as one with it (bf16 emulated where it is not native: slow, for tests), so that either machine can run both
paths: `SRNLAB_CPU_BF16=off make test`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from srnlab.errors import ConfigError

log = logging.getLogger(__name__)

AUTO = "auto"
FP32 = "32-true"
BF16 = "bf16-mixed"
# Short names of the deblur CLI and the benchmarks -> Lightning's precision strings.
ALIASES = {"32": FP32, "fp32": FP32, "bf16": BF16, "16": "16-mixed", "fp16": "16-mixed"}
_AUTOCAST_DTYPES = {BF16: torch.bfloat16, "16-mixed": torch.float16}
CPU_BF16_SWITCH = "SRNLAB_CPU_BF16"  # auto (ask the hardware), off or on


@dataclass(frozen=True)
class PrecisionChoice:
    """A Lightning precision string and why it was chosen (logged once at start-up)."""

    precision: str
    reason: str

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """The dtype autocast runs matmuls and convolutions in; None for plain fp32."""
        return _AUTOCAST_DTYPES.get(self.precision)


def cpu_native_bf16() -> tuple[bool, str]:
    """Whether this CPU computes bf16 in hardware (AMX tiles or AVX512-BF16) and oneDNN can use it.

    `torch.backends.cpu.get_cpu_capability()` names only the vector ISA torch dispatches to (AVX2, AVX512),
    which says nothing about bf16 instructions, so the cpuinfo probes torch ships are asked as well.
    """
    isa = torch.backends.cpu.get_cpu_capability()
    forced = os.environ.get(CPU_BF16_SWITCH, AUTO).strip().lower() or AUTO
    if forced not in (AUTO, "off", "on"):
        raise ConfigError(f"{CPU_BF16_SWITCH}={forced!r}: use auto (ask the hardware), off (fp32 path) or on (bf16).")
    if forced != AUTO:
        kind = "with" if forced == "on" else "without"
        return forced == "on", f"{CPU_BF16_SWITCH}={forced}: this CPU ({isa}) counts as one {kind} native bf16"
    probes = {"AMX-BF16": "_is_amx_tile_supported", "AVX512-BF16": "_is_avx512_bf16_supported"}
    found = [name for name, probe in probes.items() if getattr(torch.cpu, probe, lambda: False)()]
    if found and onednn_bf16():
        return True, f"CPU ({isa}) has {' and '.join(found)}"
    if found:
        return False, f"CPU ({isa}) has {' and '.join(found)}, but this torch build's oneDNN has no bf16 kernels"
    return False, f"CPU ({isa}) has no native bf16 (no AMX-BF16 or AVX512-BF16): bf16 would be emulated and slower"


def cpu_name() -> str:
    """The CPU model as /proc/cpuinfo names it (platform.processor() is often empty on Linux): benchmarks and
    model cards name the machine they measured on."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def describe_cpu() -> str:
    """'<model>, <n> logical cores, torch <version>, precision auto -> <choice> (<reason>)'."""
    choice = resolve_precision(AUTO, "cpu")
    return (
        f"{cpu_name()}, {os.cpu_count()} logical cores, torch {torch.__version__}, "
        f"precision auto -> {choice.precision} ({choice.reason})"
    )


def describe_machine(accelerator: str, choice: PrecisionChoice) -> str:
    """Where a run trained, for result files and tables: the GPU's name when CUDA does the work, else the CPU
    model, with the precision used and why (results are comparable only within one kind of machine)."""
    on_gpu = accelerator in (AUTO, "gpu", "cuda") and torch.cuda.is_available()
    device = f"{torch.cuda.get_device_name(0)} (CUDA)" if on_gpu else f"{cpu_name()}, {os.cpu_count()} logical cores"
    return f"{device}, torch {torch.__version__}, precision {choice.precision} ({choice.reason})"


def onednn_bf16() -> bool:
    """Whether torch's oneDNN build has bf16 convolution kernels for this CPU."""
    return torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def cuda_native_bf16(device: torch.device | None = None) -> tuple[bool, str]:
    """Whether the CUDA device has bf16 tensor cores (Ampere and newer)."""
    name = torch.cuda.get_device_name(device)
    if torch.cuda.is_bf16_supported(including_emulation=False):
        return True, f"{name} supports bf16"
    return False, f"{name} has no native bf16"


def uses_cuda(accelerator: str) -> bool:
    """Whether a Trainer `accelerator` (cpu, gpu, cuda, auto) or a device string (cuda:1) means a GPU here."""
    kind = str(accelerator).split(":")[0]
    return kind in ("gpu", "cuda") or (kind == AUTO and torch.cuda.is_available())


def resolve_precision(requested: str | int, accelerator: str) -> PrecisionChoice:
    """`auto` -> bf16-mixed where the device has native bf16, else 32-true; anything else is kept as given."""
    requested = ALIASES.get(str(requested), str(requested))
    if requested != AUTO:
        return PrecisionChoice(requested, "set explicitly")
    if uses_cuda(accelerator):
        if not torch.cuda.is_available():
            return PrecisionChoice(FP32, "no CUDA device is visible")
        native, why = cuda_native_bf16()
    else:
        native, why = cpu_native_bf16()
    return PrecisionChoice(BF16 if native else FP32, why)


def trainer_precision(trainer_cfg: Mapping[str, Any]) -> PrecisionChoice:
    """Resolve a Trainer config's `precision` (auto: by the hardware) and say in one log line what was chosen
    and why."""
    accelerator = str(trainer_cfg.get("accelerator", AUTO))
    choice = resolve_precision(trainer_cfg.get("precision", AUTO), accelerator)
    log.info("precision: %s on %s (%s)", choice.precision, accelerator, choice.reason)
    return choice


@contextlib.contextmanager
def autocast(choice: PrecisionChoice, device: torch.device) -> Iterator[None]:
    """Autocast as Lightning's mixed-precision plugin does it, for code that runs outside a Trainer."""
    dtype = choice.autocast_dtype
    with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        yield


@contextlib.contextmanager
def full_precision(device_type: str) -> Iterator[None]:
    """Autocast switched off: metrics, losses and saved pixels are computed in fp32 whatever the training
    precision (a bf16 SSIM of the blurry input read 0.33 instead of 0.76)."""
    with torch.autocast(device_type, enabled=False):
        yield


def resolve_channels_last(requested: bool | str, device: torch.device, training: bool) -> bool:
    """`auto` -> NHWC wherever it was measured faster (docs/speed.md): on CUDA, on CPUs with native bf16, and
    for inference on AVX2-only CPUs, where oneDNN's NHWC training step was 1.3x slower than NCHW (720p
    forward: 1.6x faster). True or False are kept as given."""
    if requested != AUTO:
        return bool(requested)
    if device.type != "cpu":
        return True
    return not training or cpu_native_bf16()[0]
