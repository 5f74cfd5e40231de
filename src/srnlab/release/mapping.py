"""Which of srnlab's parameters is which variable of the official release, and how the layouts differ.

The official code names every layer by its place in the encoder-decoder (`g_net/enc2_1` is the first, strided
convolution of the second encoder level; `g_net/dec3_3` the first ResBlock of the decoder's coarsest level).
The names are derived here from the structure of our EncoderDecoder, not listed by hand, so a network either
maps one to one onto a checkpoint or the mismatch names the layers that differ (spec, section 7).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from srnlab.errors import ConfigError
from srnlab.models import ConvLSTM, EncoderDecoder, IdentityBottleneck, ResBlock, ScaleRecurrentNet

SCOPE = "g_net"
PARAMETER_NAMES = {"weight": "weights", "bias": "biases"}
TF_GATES = ("i", "j", "f", "o")  # official BasicConvLSTMCell: input, candidate (j), forget, output
TORCH_GATES = ("i", "f", "o", "j")  # srnlab.models.ConvLSTM: input, forget, output, candidate


def tf_names(net: ScaleRecurrentNet) -> dict[str, str]:
    """Our state-dict key -> the official variable name, for every parameter of a release-shaped network."""
    if not net.share_weights or not isinstance(net.bodies[0], EncoderDecoder):
        raise ConfigError("only a weight-shared encoder-decoder network maps onto the official release")
    paths = {module: path for path, module in net.named_modules()}
    names = {}
    for module, scope in [*_body_scopes(net.bodies[0]), *_bottleneck_scopes(net.bottlenecks[0])]:
        for param in dict(module.named_parameters(recurse=False)):
            names[f"{paths[module]}.{param}"] = f"{SCOPE}/{scope}/{PARAMETER_NAMES[param]}"
    unnamed = [k for k in net.state_dict() if k not in names]
    if unnamed:
        raise ConfigError(f"parameters with no official counterpart: {', '.join(unnamed[:4])}")
    return names


def _body_scopes(body: EncoderDecoder) -> list[tuple[nn.Module, str]]:
    """enc{level}_1 is each encoder level's first convolution and enc{level}_2.. its ResBlocks; the decoder
    counts down: dec{level}_{n}..1 are its ResBlocks, dec{level}_{n+1} the transposed convolution that leads
    into it, dec1_0 the output convolution."""
    scopes: list[tuple[nn.Module, str]] = []
    for level, block in enumerate((body.in_block, body.e_block1, body.e_block2), start=1):
        scopes.append((block[0][0], f"enc{level}_1"))
        scopes += _resblock_scopes(block[1], [f"enc{level}_{j + 2}" for j in range(len(block[1]))])
    for level, block in zip((3, 2, 1), (body.d_block1, body.d_block2, body.out_block), strict=True):
        units = block[0]
        scopes += _resblock_scopes(units, [f"dec{level}_{len(units) - j}" for j in range(len(units))])
    scopes += [(body.d_block1[1][0], f"dec2_{len(body.d_block2[0]) + 1}")]
    scopes += [(body.d_block2[1][0], f"dec1_{len(body.out_block[0]) + 1}"), (body.out_block[1], "dec1_0")]
    return scopes


def _resblock_scopes(units: nn.Sequential, scopes: list[str]) -> list[tuple[nn.Module, str]]:
    if not all(isinstance(unit, ResBlock) for unit in units):
        raise ConfigError("the official release uses ResBlocks: its networks are the edrb bodies")
    return [pair for unit, s in zip(units, scopes, strict=True) for pair in _conv_pair(unit, s)]


def _conv_pair(unit: ResBlock, scope: str) -> list[tuple[nn.Module, str]]:
    return [(unit.body[0][0], f"{scope}/conv1"), (unit.body[1], f"{scope}/conv2")]


def _bottleneck_scopes(bottleneck: nn.Module) -> list[tuple[nn.Module, str]]:
    if isinstance(bottleneck, ConvLSTM):
        return [(bottleneck.gates, "convLSTM/LSTM_conv")]
    if isinstance(bottleneck, IdentityBottleneck):
        return []
    name = type(bottleneck).__name__
    raise ConfigError(f"the official release has a ConvLSTM or nothing at the bottleneck, not a {name}")


def torch_shape(tf_shape: tuple[int, ...]) -> tuple[int, ...]:
    """A TF variable's shape in PyTorch's layout (see `to_torch`)."""
    return (tf_shape[3], tf_shape[2], tf_shape[0], tf_shape[1]) if len(tf_shape) == 4 else tuple(tf_shape)


def to_torch(value: np.ndarray, tf_name: str) -> torch.Tensor:
    """A TF variable in PyTorch's layout. Conv kernels are (kh, kw, in, out) in TF and (out, in, kh, kw) in
    PyTorch; transposed-conv kernels are (kh, kw, out, in) and (in, out, kh, kw): the same permutation, and no
    spatial flip, since both frameworks' transposed convolution is the gradient of the same correlation. The
    ConvLSTM's four gate blocks are reordered from TF's (i, j, f, o) to ours (i, f, o, j)."""
    tensor = torch.from_numpy(np.ascontiguousarray(value))
    if tensor.dim() == 4:
        tensor = tensor.permute(3, 2, 0, 1)
    if "/convLSTM/" in tf_name:
        blocks = tensor.chunk(len(TF_GATES), dim=0)
        tensor = torch.cat([blocks[TF_GATES.index(gate)] for gate in TORCH_GATES], dim=0)
    return tensor.contiguous()
