"""Inference-only oneDNN fusion: each convolution runs with its ReLU and its residual addition as post-ops of
one kernel, on weights re-ordered once into oneDNN's blocked layout.

The profile of a 720p SR-EDRB3 forward (benchmarks/forward_profile.md) spends 29 % of the bf16 fast path
on additions and ReLUs that each read and write a whole feature map, and every convolution call re-orders
its weights again. oneDNN applies a ReLU or an addition to the accumulator before the result leaves the
cache, so both costs vanish when the convolution is asked for them. Training keeps the plain modules: the
re-ordered weights are a frozen copy, valid only while the parameters do not change.
"""

from __future__ import annotations

import copy
import functools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srnlab.errors import ConfigError
from srnlab.models.blocks import ResBlock, TFSameConv2d

_ops = torch.ops.mkldnn
_CONVS = (nn.Conv2d, TFSameConv2d)  # exact types: a subclass may change what forward computes


@functools.cache
def fusion_available(dtype: torch.dtype = torch.float32) -> bool:
    """Whether oneDNN's fused convolutions run here in `dtype`. Every x86 CPU wheel has them in fp32; in bf16
    oneDNN refuses them on CPUs without AVX-512 (BW, VL, DQ) or AVX-NE-CONVERT, which autocast's convolution
    still serves (emulated, slowly), so a tiny fused convolution is tried once. The operators are torch's
    private ones (what Inductor emits for CPUs): a torch that changes them turns fusion off, not inference."""
    if not (torch.backends.mkldnn.is_available() and hasattr(_ops, "_convolution_pointwise")):
        return False
    try:
        with torch.no_grad():
            FusedConv2d(nn.Conv2d(1, 1, 1), dtype, relu=True)(torch.zeros(1, 1, 1, 1))
    except (RuntimeError, TypeError):  # refused here, or a torch whose private operators changed signature
        return False
    return True


class FusedConv2d(nn.Module):
    """A frozen Conv2d, optionally with a ReLU after it and a tensor added before that, as one oneDNN call.

    Inputs are cast to the dtype the weights were packed in (what autocast would have done for the plain
    convolution); the output keeps that dtype, as autocast's convolution output does.
    """

    def __init__(self, conv: nn.Conv2d, dtype: torch.dtype, relu: bool = False) -> None:
        super().__init__()
        self.dtype, self.relu = dtype, relu
        self.same_pad = conv.same_pads if isinstance(conv, TFSameConv2d) else None
        self.padding, self.stride = list(conv.padding), list(conv.stride)
        self.dilation, self.groups = list(conv.dilation), conv.groups
        weight = conv.weight.detach().to(dtype).contiguous(memory_format=torch.channels_last)
        self.weight = _ops._reorder_convolution_weight(weight, self.padding, self.stride, self.dilation, self.groups)
        self.bias = None if conv.bias is None else conv.bias.detach().to(dtype)

    def forward(self, x: Tensor, add: Tensor | None = None) -> Tensor:
        x = x.to(self.dtype)
        if self.same_pad is not None:
            x = F.pad(x, self.same_pad(x))
        args = (self.weight, self.bias, self.padding, self.stride, self.dilation, self.groups)
        if add is None:
            return _ops._convolution_pointwise(x, *args, "relu" if self.relu else "none", [], "")
        unary = "relu" if self.relu else None
        return _ops._convolution_pointwise(x, add.to(self.dtype), *args, "add", None, unary, [], "")


class FusedConvTranspose2d(nn.Module):
    """A frozen ConvTranspose2d with an optional ReLU, as one oneDNN call on re-ordered weights."""

    def __init__(self, conv: nn.ConvTranspose2d, dtype: torch.dtype, relu: bool = False) -> None:
        super().__init__()
        self.dtype, self.attr = dtype, "relu" if relu else "none"
        self.padding, self.output_padding = list(conv.padding), list(conv.output_padding)
        self.stride, self.dilation, self.groups = list(conv.stride), list(conv.dilation), conv.groups
        weight = conv.weight.detach().to(dtype).contiguous(memory_format=torch.channels_last)
        self.weight = _ops._reorder_convolution_transpose_weight(
            weight, self.padding, self.output_padding, self.stride, self.dilation, self.groups
        )
        self.bias = None if conv.bias is None else conv.bias.detach().to(dtype)

    def forward(self, x: Tensor) -> Tensor:
        args = (self.padding, self.output_padding, self.stride, self.dilation, self.groups, self.attr, [], "")
        return _ops._convolution_transpose_pointwise(x.to(self.dtype), self.weight, self.bias, *args)


class FusedResBlock(nn.Module):
    """conv + ReLU, then conv with the block's input added in the same kernel."""

    def __init__(self, block: ResBlock, dtype: torch.dtype) -> None:
        super().__init__()
        (first, _), second = block.body
        self.first = FusedConv2d(first, dtype, relu=True)
        self.second = FusedConv2d(second, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self.second(self.first(x), add=x)


def fused(module: nn.Module, dtype: torch.dtype) -> nn.Module:
    """`module` with every convolution it contains replaced by its fused form (in place where it is a
    container); the forward code of the bodies and bottlenecks runs unchanged on the replacements."""
    if isinstance(module, ResBlock):
        return FusedResBlock(module, dtype)
    if isinstance(module, nn.Sequential) and len(module) == 2 and isinstance(module[1], nn.ReLU):
        layer = module[0]
        if type(layer) in _CONVS:
            return FusedConv2d(layer, dtype, relu=True)
        if type(layer) is nn.ConvTranspose2d:
            return FusedConvTranspose2d(layer, dtype, relu=True)
    if type(module) in _CONVS:
        return FusedConv2d(module, dtype)
    if type(module) is nn.ConvTranspose2d:
        return FusedConvTranspose2d(module, dtype)
    for name, child in module.named_children():
        setattr(module, name, fused(child, dtype))
    return module


class InferenceFusion:
    """The fused copy of a network that inference should run, or the network itself where fusion does not
    apply: training, gradients, a GPU, fp16, a compiled network, or `requested` false.

    The copy is made on first use for the autocast dtype in force (bf16 weights under bf16 autocast, fp32
    otherwise) and made again whenever a parameter has changed since (a training step, load_state_dict), so
    validation between epochs scores the weights as they are.
    """

    def __init__(self, requested: bool | str = "auto") -> None:
        if requested not in ("auto", True, False):
            raise ConfigError(f"model.fuse must be auto, true or false, got {requested!r}")
        self.requested = requested
        self._key: tuple | None = None
        self._net: nn.Module | None = None

    def __getstate__(self) -> dict:
        """Copies and pickles (of a module that holds this) leave the fused copy behind: oneDNN's re-ordered
        weights have no storage to copy, and the copy is remade on its first inference anyway."""
        return {"requested": self.requested, "_key": None, "_net": None}

    def __deepcopy__(self, memo: dict) -> InferenceFusion:
        return InferenceFusion(self.requested)

    def __call__(self, net: nn.Module) -> nn.Module:
        dtype = self.dtype_for(net)
        if dtype is None:
            return net
        # inference tensors (weights loaded under inference_mode) keep no version: only their identity counts
        key = (dtype, tuple((id(p), -1 if p.is_inference() else p._version) for p in net.parameters()))
        if key != self._key:
            self._net, self._key = fused(copy.deepcopy(net), dtype), key
        return self._net

    def dtype_for(self, net: nn.Module) -> torch.dtype | None:
        """The dtype to pack the weights in for this call, or None to run `net` as it is."""
        params = list(net.parameters())
        if self.requested is False or net.training or torch.is_grad_enabled():
            return None
        if not params or any(p.device.type != "cpu" or p.dtype != torch.float32 for p in params):
            return None
        if getattr(net, "_compiled_call_impl", None) is not None:  # model.compile: Inductor fuses on its own
            return None
        dtype = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else torch.float32
        return dtype if dtype in (torch.float32, torch.bfloat16) and fusion_available(dtype) else None
