"""Inference fusion (srnlab.infer.fusion): every convolution replaced, outputs equal to the plain modules'
within float tolerance for every variant, rebuilt when the weights change, never used where it cannot apply;
and freed memory kept for reuse (srnlab.infer.memory)."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from srnlab.config import TABLE1_IDS, compose_config, experiment_path
from srnlab.errors import ConfigError
from srnlab.infer.deblurrer import Deblurrer
from srnlab.infer.fusion import FusedConv2d, FusedConvTranspose2d, InferenceFusion, fused, fusion_available
from srnlab.models import ScaleRecurrentNet
from srnlab.models.encoder_decoder import EncoderDecoder
from srnlab.runs.weights import PRETRAINED, load_network

pytestmark = pytest.mark.skipif(not fusion_available(), reason="this torch build has no oneDNN")

VARIANTS = [*TABLE1_IDS, "srn_full", "release/color", "release/gray"]


def random_net(experiment: str, width_mult: float = 0.25) -> ScaleRecurrentNet:
    """A variant at reduced width with every weight random (the residual profile zeroes the output conv, which
    would hide the last layer from the comparison)."""
    overrides = [f"experiment={experiment_path(experiment)}"]
    if not experiment.startswith("release/"):
        overrides.append(f"model.net.width_mult={width_mult}")
    torch.manual_seed(0)
    net = instantiate(compose_config("train", overrides).model.net).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p) * (0.5 / p[0].numel()) ** 0.5)
    return net


def plain_convolutions(net: nn.Module) -> list[str]:
    return [name for name, m in net.named_modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]


@pytest.mark.parametrize("experiment", VARIANTS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_fused_network_matches_the_plain_one_in_fp32(experiment: str, channels_last: bool) -> None:
    net = random_net(experiment)
    fast = fused(copy.deepcopy(net), torch.float32)
    assert not plain_convolutions(fast)  # every convolution now runs as a oneDNN call
    has_decoder = isinstance(net.bodies[0], EncoderDecoder)
    assert any(isinstance(m, FusedConvTranspose2d) for m in fast.modules()) == has_decoder
    layout = torch.channels_last if channels_last else torch.contiguous_format
    blur = torch.rand(1, 3, 37, 50).contiguous(memory_format=layout)  # odd size: every padding path
    with torch.inference_mode():
        expected, got = net(blur), fast(blur)
    assert len(got) == len(expected)
    for e, g in zip(expected, got, strict=True):
        assert g.shape == e.shape and g.dtype == torch.float32
        scale = e.abs().max().item()
        assert scale > 0.1  # random weights: a real signal reaches the output
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5 * scale)


def test_fused_flat_body_replaces_every_convolution() -> None:
    fast = fused(random_net("sr_flat"), torch.float32)
    assert not plain_convolutions(fast)
    assert sum(isinstance(m, FusedConv2d) and m.relu for m in fast.modules()) == 41  # 42 plain convs, last linear


@pytest.mark.skipif(not fusion_available(torch.bfloat16), reason="oneDNN fuses bf16 only on AVX-512 or AVX-NE-CONVERT")
def test_fused_bf16_is_as_close_to_fp32_as_autocast_is() -> None:
    """The shipped network on a blurred photograph: oneDNN's bf16 kernels with fused post-ops round no worse
    than autocast's separate convolution, ReLU and addition (each rounding to bf16)."""
    from skimage import data

    net, _ = load_network(PRETRAINED)
    net.eval()
    image = torch.from_numpy(data.astronaut()[100:196, 150:278]).permute(2, 0, 1)[None].float() / 255
    blur = torch.nn.functional.avg_pool2d(image, 5, stride=1, padding=2, count_include_pad=False)
    fast = fused(copy.deepcopy(net), torch.bfloat16)
    with torch.inference_mode():
        reference = net(blur)[-1]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            autocast_out, fused_out = net(blur)[-1].float(), fast(blur)[-1].float()
    autocast_error = (autocast_out - reference).abs()
    fused_error = (fused_out - reference).abs()
    assert autocast_error.max() > 0  # bf16 really ran
    assert fused_error.mean() <= 1.5 * autocast_error.mean()
    assert fused_error.max() <= 2 * autocast_error.max() + 1 / 255


def test_inference_fusion_is_used_only_where_it_applies() -> None:
    net = random_net("sr_edrb1")
    fusion = InferenceFusion("auto")
    with torch.no_grad():
        first = fusion(net)
        assert first is not net and fusion(net) is first  # made once, then reused
        with torch.autocast("cpu", dtype=torch.bfloat16):
            if fusion_available(torch.bfloat16):
                assert next(m for m in fusion(net).modules() if isinstance(m, FusedConv2d)).dtype == torch.bfloat16
            else:  # a CPU whose oneDNN has no fused bf16 kernels: autocast's plain convolutions
                assert fusion(net) is net
        with torch.autocast("cpu", dtype=torch.float16):
            assert fusion(net) is net
    assert fusion(net) is net  # gradients on: training or a backward through the output
    with torch.no_grad():
        assert InferenceFusion(False)(net) is net
        assert fusion(net.train()) is net


def test_a_module_that_has_fused_copies_and_pickles(smoke_checkpoint) -> None:
    """oneDNN's re-ordered weights cannot be copied: the fused copy is left behind and remade on use."""
    deblurrer = Deblurrer.load(smoke_checkpoint)
    blur = torch.rand(1, 3, 24, 32)
    with torch.inference_mode():
        expected = deblurrer(blur)
    assert deblurrer.fusion._net is not None
    for twin in (copy.deepcopy(deblurrer), pickle.loads(pickle.dumps(deblurrer))):
        assert twin.fusion._net is None
        with torch.inference_mode():
            torch.testing.assert_close(twin(blur), expected)


def test_inference_fusion_follows_changed_weights() -> None:
    net = random_net("sr_edrb1")
    fusion = InferenceFusion("auto")
    blur = torch.rand(1, 3, 24, 32)
    with torch.no_grad():
        before = fusion(net)(blur)[-1]
        other = random_net("sr_edrb1")
        with torch.no_grad():
            for p in other.parameters():
                p.mul_(-1)
        net.load_state_dict(other.state_dict())
        after, plain = fusion(net)(blur)[-1], net(blur)[-1]
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, plain, rtol=1e-4, atol=1e-5 * plain.abs().max().item())


def test_bad_fuse_value_names_the_option() -> None:
    with pytest.raises(ConfigError, match=r"model\.fuse"):
        InferenceFusion("yes")


def test_deblurrer_and_module_deblur_through_the_fused_network(smoke_checkpoint) -> None:
    from srnlab.lit.module import DeblurModule

    blur = torch.rand(1, 3, 40, 48)
    for fuse in ("auto", False):
        deblurrer = Deblurrer.load(smoke_checkpoint, fuse=fuse)
        module = DeblurModule.load_from_checkpoint(smoke_checkpoint, map_location="cpu", fuse=fuse).eval()
        with torch.inference_mode():
            outputs = deblurrer(blur), module(blur), deblurrer.net(blur)[-1]
        used = deblurrer.fusion._net is not None, module.fusion._net is not None
        assert used == ((fuse == "auto"),) * 2
        for out in outputs[:2]:
            torch.testing.assert_close(out, outputs[2], rtol=1e-4, atol=1e-5)


MEMORY_PROBE = """
import json, resource, torch
from srnlab.infer.memory import keep_freed_memory
kept = keep_freed_memory()
faults = []
for _ in range(12):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    x = torch.ones(16 * 2**20)
    y = x * 2
    del x, y
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
from srnlab.infer.tiling import resident_bytes
base = resident_bytes()
x = torch.ones(32 * 2**20)
held = resident_bytes() - base
del x
print(json.dumps({"kept": kept, "faults": faults, "held": held, "after": resident_bytes() - base}))
"""


def memory_probe(choice: str) -> dict:
    env = {**os.environ, "SRNLAB_MALLOC": choice}
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_memory_is_reused_without_page_faults() -> None:
    """Two 64 MB buffers allocated and freed twelve times: glibc's own thresholds map fresh pages every time
    (about 32,000 4 KB pages, each zeroed by the kernel); kept memory is reused once the heap has grown to the
    pattern (a few rounds), as a forward pass's feature maps are."""
    kept, system = memory_probe("keep"), memory_probe("system")
    assert kept["kept"] and not system["kept"]
    assert min(system["faults"][4:]) > 30_000
    assert sum(kept["faults"][4:]) < 0.25 * sum(system["faults"][4:])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
@pytest.mark.parametrize("choice", ["keep", "system"])
def test_memory_kept_for_reuse_is_not_counted_as_held(choice: str) -> None:
    """srn-deblur sizes its tiles by what the process holds (srnlab.infer.tiling.resident_bytes): 128 MB freed
    but kept by glibc would otherwise shrink every later image's tiles."""
    report = memory_probe(choice)
    assert report["held"] > 120 * 2**20
    assert report["after"] < 16 * 2**20
