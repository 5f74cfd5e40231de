"""Precision chosen by the hardware, fp32 metrics and losses under autocast, and the channels_last layout."""

from __future__ import annotations

import logging

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate

from srnlab import precision
from srnlab.config import compose_config
from srnlab.errors import ConfigError
from srnlab.lit.losses import multiscale_mse
from srnlab.lit.metrics import quantize, score_images
from srnlab.lit.module import DeblurModule
from srnlab.precision import BF16, FP32, resolve_precision, trainer_precision

TRAINERS = ("cpu", "gpu", "ddp", "ddp_cpu")


def fake_cpu(monkeypatch: pytest.MonkeyPatch, amx: bool, avx512_bf16: bool, onednn: bool = True) -> None:
    """This CPU as one with (or without) these bf16 units, whatever SRNLAB_CPU_BF16 the suite runs under."""
    monkeypatch.delenv(precision.CPU_BF16_SWITCH, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(precision, "onednn_bf16", lambda: onednn)


@pytest.mark.parametrize("trainer", TRAINERS)
def test_every_trainer_config_defaults_to_auto(trainer) -> None:
    """The trainer configs leave precision to the hardware; the default profile pins the fp32 its committed table
    was trained in (docs/proxy-fidelity.md), so that every CPU reproduces it."""
    assert compose_config("train", [f"trainer={trainer}", "profile=mini"]).trainer.precision == "auto"
    assert compose_config("train", [f"trainer={trainer}"]).trainer.precision == "32-true"


@pytest.mark.parametrize(
    ("amx", "avx512_bf16", "onednn", "expected"),
    [(True, False, True, BF16), (False, True, True, BF16), (False, False, True, FP32), (True, True, False, FP32)],
)
def test_auto_on_cpu_follows_native_bf16(monkeypatch, amx, avx512_bf16, onednn, expected) -> None:
    fake_cpu(monkeypatch, amx, avx512_bf16, onednn)
    choice = resolve_precision("auto", "cpu")
    assert choice.precision == expected
    assert ("no native bf16" in choice.reason) == (not amx and not avx512_bf16)
    assert ("oneDNN" in choice.reason) == (not onednn)


def test_auto_on_this_cpu_matches_torchs_probes(monkeypatch) -> None:
    monkeypatch.delenv(precision.CPU_BF16_SWITCH, raising=False)
    native = torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    expected = BF16 if native and precision.onednn_bf16() else FP32
    assert resolve_precision("auto", "cpu").precision == expected


@pytest.mark.parametrize(
    ("switch", "expected", "layout"), [("off", FP32, False), ("on", BF16, True), ("OFF", FP32, False)]
)
@pytest.mark.parametrize("amx", [True, False])
def test_the_cpu_switch_forces_either_path_on_any_cpu(monkeypatch, switch, expected, layout, amx) -> None:
    fake_cpu(monkeypatch, amx=amx, avx512_bf16=False)
    monkeypatch.setenv(precision.CPU_BF16_SWITCH, switch)
    choice = resolve_precision("auto", "cpu")
    assert choice.precision == expected and f"SRNLAB_CPU_BF16={switch.lower()}" in choice.reason
    assert precision.resolve_channels_last("auto", torch.device("cpu"), training=True) is layout
    assert resolve_precision("32", "cpu").precision == FP32, "an explicit value still wins"


@pytest.mark.parametrize("switch", ["", "auto"])
def test_the_cpu_switch_unset_or_auto_asks_the_hardware(monkeypatch, switch) -> None:
    fake_cpu(monkeypatch, amx=False, avx512_bf16=True)
    monkeypatch.setenv(precision.CPU_BF16_SWITCH, switch)
    isa = torch.backends.cpu.get_cpu_capability()
    assert resolve_precision("auto", "cpu") == precision.PrecisionChoice(BF16, f"CPU ({isa}) has AVX512-BF16")


def test_a_wrong_cpu_switch_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv(precision.CPU_BF16_SWITCH, "fast")
    with pytest.raises(ConfigError, match="SRNLAB_CPU_BF16='fast': use auto"):
        resolve_precision("auto", "cpu")


def test_auto_without_a_gpu_falls_back_to_fp32(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_precision("auto", "gpu") == precision.PrecisionChoice(FP32, "no CUDA device is visible")


@pytest.mark.parametrize(
    ("requested", "expected"),
    [("32-true", FP32), ("bf16-mixed", BF16), ("16-mixed", "16-mixed"), ("bf16", BF16), (32, FP32)],
)
def test_explicit_values_override_auto(monkeypatch, requested, expected) -> None:
    fake_cpu(monkeypatch, amx=False, avx512_bf16=False)
    assert resolve_precision(requested, "cpu") == precision.PrecisionChoice(expected, "set explicitly")


def test_the_choice_is_logged_with_its_reason(monkeypatch, caplog) -> None:
    fake_cpu(monkeypatch, amx=True, avx512_bf16=False)
    with caplog.at_level(logging.INFO, logger="srnlab.precision"):
        trainer_precision({"accelerator": "cpu", "precision": "auto"})
    assert any("bf16-mixed on cpu" in r.message and "AMX-BF16" in r.message for r in caplog.records)


def test_scores_and_loss_are_fp32_under_bf16_autocast() -> None:
    torch.manual_seed(0)
    sharp = torch.rand(2, 3, 48, 40)
    blur = (sharp + 0.05 * torch.randn_like(sharp)).clamp(0, 1)
    reference = score_images(quantize(blur), sharp)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        scores = score_images(quantize(blur), sharp)
        loss = multiscale_mse([blur[..., ::2, ::2].bfloat16(), blur.bfloat16()], sharp)
    assert loss.dtype == torch.float32
    for key in ("psnr", "ssim"):
        assert scores[key].dtype == torch.float32
        torch.testing.assert_close(scores[key], reference[key], rtol=0, atol=0)
    assert quantize(blur.bfloat16()).dtype == torch.float32


@pytest.fixture(scope="module")
def smoke_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "synthetic"
    overrides = [
        "profile=smoke",
        f"data.root={root}",
        "data.synthesize.n_train=4",
        "data.synthesize.n_test=4",
        "data.synthesize.size=[80,96]",
        "data.val_max_images=4",
    ]
    cfg = compose_config("train", overrides)
    datamodule = instantiate(cfg.data)
    pl.seed_everything(0)
    return cfg, datamodule, DeblurModule.from_config(cfg).state_dict(), root.parent


def validate(cfg, datamodule, state, run_dir, precision_name: str) -> dict[str, float]:
    module = DeblurModule.from_config(cfg)
    module.load_state_dict(state)
    trainer = pl.Trainer(
        accelerator="cpu",
        precision=precision_name,
        default_root_dir=run_dir / precision_name,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
    )
    return trainer.validate(module, datamodule=datamodule, verbose=False)[0]


def test_blurry_input_scores_are_identical_under_fp32_and_bf16(smoke_setup) -> None:
    fp32, bf16 = (validate(*smoke_setup, p) for p in (FP32, BF16))
    assert bf16["val/blur_psnr"] == fp32["val/blur_psnr"]
    assert bf16["val/blur_ssim"] == fp32["val/blur_ssim"]
    # Measured on this untrained smoke network: |dPSNR| 0.008 dB, |dSSIM| 0.0015 (8-bit outputs of bf16 convs).
    assert abs(bf16["val/psnr"] - fp32["val/psnr"]) < 0.3
    assert abs(bf16["val/ssim"] - fp32["val/ssim"]) < 0.01


def test_channels_last_matches_nchw(smoke_setup) -> None:
    cfg, _, state, _ = smoke_setup
    modules = {}
    for layout in (False, True):
        module = DeblurModule.from_config(cfg)
        module.settings["channels_last"] = layout
        module.use_layout_for(torch.device("cpu"), training=False)
        module.load_state_dict(state)
        modules[layout] = module.eval()
    conv = next(m for m in modules[True].net.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    blur = torch.rand(2, 3, 45, 61)
    with torch.no_grad():
        out_nchw, out_nhwc = modules[False](blur), modules[True](blur)
    torch.testing.assert_close(out_nhwc, out_nchw, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("device", "native_bf16", "training", "expected"),
    [("cuda", False, True, True), ("cpu", True, True, True), ("cpu", False, True, False), ("cpu", False, False, True)],
)
def test_auto_layout_is_channels_last_where_measured_faster(monkeypatch, device, native_bf16, training, expected):
    fake_cpu(monkeypatch, amx=native_bf16, avx512_bf16=False)
    assert precision.resolve_channels_last("auto", torch.device(device), training) == expected
    assert precision.resolve_channels_last(False, torch.device(device), training) is False
