"""The coarse-to-fine scale-recurrent network that every Table 1 variant is an instance of."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srnlab.errors import ConfigError
from srnlab.models.blocks import PADDINGS
from srnlab.models.body import Body
from srnlab.models.bottlenecks import State
from srnlab.models.resize import RESIZE_MODES, resize

BodyFactory = Callable[..., Body]
BottleneckFactory = Callable[..., nn.Module]


class ScaleRecurrentNet(nn.Module):
    """SRN-DeblurNet: one body + bottleneck run from the coarsest scale to the finest.

    At scale i the input is [B_i, up(I_{i+1})]; at the coarsest scale the previous estimate is the blurry
    image itself (paper, Eq. 1 and the official code). The bottleneck's state is resized bilinearly from
    scale to scale. `body` and `bottleneck` are factories (Hydra `_partial_` configs) because SC needs one
    independent copy per scale and the bottleneck's width is the body's.

    With `residual` (an extension beyond the paper, off in every Table 1 config) each scale's estimate is its
    blurry input plus the body's output, and the body's last convolution starts at zero: the untrained network
    is the identity, so training starts from the blurry input's score instead of having to learn to
    reproduce the image first (docs/learning-budget.md).

    forward() accepts any H, W >= 1: each scale's input is edge-padded (bottom/right, as the official code)
    to the body's size multiple and every output is cropped back.

    TF-exact numerics for the official release's checkpoints (spec, section 7), off by default: `resize='tf1'`
    (TF 1.4 bilinear between scales), `padding='tf_same'` (TF's asymmetric padding of the strided
    convolutions), `input_multiple=16` (the official test code edge-pads the whole image to a multiple of 16
    before the scales) and `channels_as_batch` (a 1-channel network deblurs R, G and B as a batch of three
    gray images).
    """

    def __init__(
        self,
        body: BodyFactory,
        bottleneck: BottleneckFactory,
        n_scales: int = 3,
        ratio: float = 0.5,
        share_weights: bool = True,
        stop_grad: bool = True,
        width_mult: float = 1.0,
        in_channels: int = 3,
        residual: bool = False,
        resize: str = "torch",
        padding: str = "symmetric",
        input_multiple: int = 1,
        channels_as_batch: bool = False,
    ) -> None:
        super().__init__()
        _check_options(n_scales, ratio, resize, padding, input_multiple, channels_as_batch, in_channels)
        self.n_scales, self.ratio, self.stop_grad, self.in_channels = n_scales, ratio, stop_grad, in_channels
        self.residual, self.resize_mode, self.input_multiple = residual, resize, input_multiple
        self.channels_as_batch = channels_as_batch
        n_copies = 1 if share_weights else n_scales
        self.bodies = nn.ModuleList(
            body(in_channels=2 * in_channels, out_channels=in_channels, width_mult=width_mult, padding=padding)
            for _ in range(n_copies)
        )
        if not isinstance(self.bodies[0], Body):
            raise ConfigError(
                f"model.body builds a {type(self.bodies[0]).__name__}, which lacks the Body interface "
                "(encode, decode, size_multiple, bottleneck_channels, output_conv: srnlab.models.body)"
            )
        width = self.bodies[0].bottleneck_channels
        self.bottlenecks = nn.ModuleList(bottleneck(channels=width) for _ in range(n_copies))
        self.reset_parameters()

    @property
    def share_weights(self) -> bool:
        return len(self.bodies) == 1

    def reset_parameters(self) -> None:
        """Xavier-uniform weights and zero biases everywhere (official code's initialiser); a residual
        network's output convolutions start at zero, so that it starts as the identity."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        if self.residual:
            for body in self.bodies:
                nn.init.zeros_(body.output_conv.weight)

    def scale_sizes(self, height: int, width: int) -> list[tuple[int, int]]:
        """Image size at each scale, coarsest first; never below 1 pixel."""
        factors = [self.ratio ** (self.n_scales - 1 - i) for i in range(self.n_scales)]
        return [(max(1, round(height * f)), max(1, round(width * f))) for f in factors]

    def forward(self, blur: Tensor) -> list[Tensor]:
        if self.channels_as_batch and blur.dim() == 4:
            n, c, h, w = blur.shape
            return [out.reshape(n, c, *out.shape[-2:]) for out in self._forward(blur.reshape(n * c, 1, h, w))]
        return self._forward(blur)

    def _forward(self, blur: Tensor) -> list[Tensor]:
        if blur.dim() != 4 or blur.shape[1] != self.in_channels:
            raise ValueError(f"expected a B x {self.in_channels} x H x W batch, got shape {tuple(blur.shape)}")
        height, width = blur.shape[-2:]
        m = self.input_multiple
        blur = F.pad(blur, (0, -width % m, 0, -height % m), mode="replicate")
        outputs: list[Tensor] = []
        state: State = None
        for i, size in enumerate(self.scale_sizes(*blur.shape[-2:])):
            copy = min(i, len(self.bodies) - 1)
            b_i = self._resize(blur, size)
            prev = b_i if not outputs else self._resize(outputs[-1].detach() if self.stop_grad else outputs[-1], size)
            out, state = self._run_scale(copy, torch.cat([b_i, prev], dim=1), state)
            outputs.append(out)
        outputs[-1] = outputs[-1][..., :height, :width]
        return outputs

    def _resize(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        return resize(x, size, self.resize_mode)

    def _run_scale(self, copy: int, x: Tensor, state: State) -> tuple[Tensor, State]:
        body, bottleneck = self.bodies[copy], self.bottlenecks[copy]
        h, w = x.shape[-2:]
        m = body.size_multiple
        x = F.pad(x, (0, -w % m, 0, -h % m), mode="replicate")
        feats, skips = body.encode(x)
        if state is not None:
            state = tuple(self._resize(s, feats.shape[-2:]) for s in state)
        feats, state = bottleneck(feats, state)
        out = body.decode(feats, skips)[..., :h, :w]
        if self.residual:
            out = out + x[:, : self.in_channels, :h, :w]
        return out, state


def _check_options(
    n_scales: int,
    ratio: float,
    resize_mode: str,
    padding: str,
    input_multiple: int,
    channels_as_batch: bool,
    in_channels: int,
) -> None:
    """Refuse values the network would otherwise misread silently, naming the config key."""
    if n_scales < 1:
        raise ConfigError(f"model.net.n_scales must be >= 1, got {n_scales}")
    if not 0.0 < ratio < 1.0:
        raise ConfigError(f"model.net.ratio must lie in (0, 1), got {ratio}")
    if resize_mode not in RESIZE_MODES:
        raise ConfigError(f"model.net.resize must be one of {', '.join(RESIZE_MODES)}, got {resize_mode!r}")
    if padding not in PADDINGS:
        raise ConfigError(f"model.net.padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
    if input_multiple < 1:
        raise ConfigError(f"model.net.input_multiple must be >= 1, got {input_multiple}")
    if channels_as_batch and in_channels != 1:
        raise ConfigError(f"model.net.channels_as_batch needs model.net.in_channels=1, got {in_channels}")
