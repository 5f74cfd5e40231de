"""The training step's forward and loss as one compiled function whose kernels replay from a CUDA graph.

A training step of SR-EDRB3 launches hundreds of small kernels over three scales; on an H200 it reached 0.03
of the bf16 ceiling because the GPU waits for the CPU to launch them (issue 34). A CUDA graph records the
launches once and replays them with one call. `torch.compile(mode="reduce-overhead")` records and replays
them for fixed shapes, which training crops have: every batch is `data.batch_size` x `data.crop_size`^2.

Only the training step is compiled: the network itself stays a plain module, so checkpoints, resume,
validation on full frames of any size and every Table 1 variant behave as without graphs. On a CPU the same
function is compiled by Inductor without graphs (there are none to record).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor

StepLoss = Callable[[Tensor, Tensor], Tensor]  # (blur, sharp) -> the loss of the network's outputs


class GraphedLoss:
    """A training step's loss function (forward + loss), compiled once for the shapes of the training batches."""

    compile_options: ClassVar[dict[str, Any]] = {"mode": "reduce-overhead", "dynamic": False}

    def __init__(self, loss_of: StepLoss) -> None:
        self.compiled = torch.compile(loss_of, **self.compile_options)

    def __call__(self, blur: Tensor, sharp: Tensor) -> Tensor:
        """The loss of one batch. The graph's outputs live in memory the next replay overwrites, so the step
        is marked as new (what the previous one returned is no longer read) and the loss that Lightning keeps
        for logging is a copy."""
        torch.compiler.cudagraph_mark_step_begin()
        return self.compiled(blur, sharp).clone()
