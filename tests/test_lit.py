"""Loss, schedule and metrics of the training module, against independent references."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from skimage.metrics import structural_similarity

from srnlab.config import compose_config
from srnlab.errors import ConfigError
from srnlab.image_io import read_image, to_tensor
from srnlab.lit.callbacks import DivergenceGuard, RunProgress, TrainingDiverged, describe_validation
from srnlab.lit.losses import MultiScaleLoss, build_loss, multiscale_mse
from srnlab.lit.metrics import METRICS, ImageScores, per_image_gradient_ratio, per_image_ssim, quantize
from srnlab.lit.module import DeblurModule
from srnlab.lit.schedule import WarmupDecay


def skimage_ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    return structural_similarity(
        a.permute(1, 2, 0).numpy(), b.permute(1, 2, 0).numpy(), gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, channel_axis=-1, data_range=1.0,
    )  # fmt: skip


def test_psnr_is_the_mean_of_per_image_psnr_on_8_bit_outputs() -> None:
    torch.manual_seed(0)
    sharp = quantize(torch.rand(3, 3, 24, 32))
    preds = quantize(sharp + 0.05 * torch.randn_like(sharp) * torch.tensor([0.5, 1.0, 2.0]).view(3, 1, 1, 1))
    metrics = ImageScores()
    metrics.update(preds[:2], sharp[:2])
    metrics.update(preds[2:], sharp[2:])
    expected = np.mean([10 * math.log10(1 / F.mse_loss(p, s).item()) for p, s in zip(preds, sharp, strict=True)])
    pooled = 10 * math.log10(1 / F.mse_loss(preds, sharp).item())
    got = metrics.compute()["psnr"].item()
    assert got == pytest.approx(expected, abs=1e-4)
    assert abs(got - pooled) > 0.1  # the pooled-MSE PSNR is a different number


def test_quantize_rounds_to_8_bit_levels_and_clips() -> None:
    x = torch.tensor([-0.2, 0.0, 0.5, 1.3, 0.00196])
    assert torch.equal(quantize(x) * 255, torch.tensor([0.0, 0.0, 128.0, 255.0, 0.0]))


def test_ssim_matches_scikit_image_on_random_images() -> None:
    torch.manual_seed(1)
    a = torch.rand(2, 3, 40, 48)
    b = (a + 0.1 * torch.randn_like(a)).clamp(0, 1)
    ours = per_image_ssim(a, b)
    for i in range(2):
        assert ours[i].item() == pytest.approx(skimage_ssim(a[i], b[i]), abs=1e-4)


def test_ssim_matches_scikit_image_on_real_gopro_pairs(realdata) -> None:
    metric = ImageScores()
    refs = []
    for seq in ("GOPR0384_11_00", "DeepDeblurExample_seq4_frame1"):
        folder = realdata / "gopro_mini" / "test" / seq
        blur, sharp = (to_tensor(read_image(folder / k / "000001.png")) for k in ("blur", "sharp"))
        ours = per_image_ssim(blur[None], sharp[None]).item()
        ref = skimage_ssim(blur, sharp)
        assert ours == pytest.approx(ref, abs=1e-3)
        metric.update(blur[None], sharp[None])
        refs.append(ref)
    assert metric.compute()["ssim"].item() == pytest.approx(np.mean(refs), abs=1e-3)


def test_multiscale_loss_sums_mse_against_resized_targets() -> None:
    sharp = torch.rand(2, 3, 16, 16)
    outs = [torch.rand(2, 3, 4, 4), torch.rand(2, 3, 8, 8), torch.rand(2, 3, 16, 16)]
    expected = sum(F.mse_loss(o, F.interpolate(sharp, size=o.shape[-2:], mode="bilinear")) for o in outs)
    assert multiscale_mse(outs, sharp).item() == pytest.approx(expected.item())
    assert multiscale_mse(outs, sharp, [0, 0, 1]).item() == pytest.approx(F.mse_loss(outs[2], sharp).item())
    with pytest.raises(ValueError, match="scale_weights has 2 entries for 3 scales"):
        multiscale_mse(outs, sharp, [1, 1])


def _by_hand(outs: list[torch.Tensor], sharp: torch.Tensor, pixel) -> float:
    """Sum over scales of a per-pixel term, each against the sharp image resized as the loss does, in numpy."""
    total = 0.0
    for out in outs:
        target = F.interpolate(sharp, size=out.shape[-2:], mode="bilinear").double().numpy()
        total += pixel(out.double().numpy(), target)
    return total


def _fft_l1(a: np.ndarray, b: np.ndarray) -> float:
    fa, fb = np.fft.rfft2(a), np.fft.rfft2(b)
    return float(np.mean(np.abs(np.stack([fa.real - fb.real, fa.imag - fb.imag]))))


@pytest.mark.parametrize(
    ("choice", "pixel"),
    [
        ("multiscale_mse", lambda a, b: np.mean((a - b) ** 2)),
        ("l1", lambda a, b: np.mean(np.abs(a - b))),
        ("charbonnier", lambda a, b: np.mean(np.sqrt((a - b) ** 2 + 1e-6))),
        ("fft", lambda a, b: np.mean(np.abs(a - b)) + 0.1 * _fft_l1(a, b)),
    ],
)
def test_each_loss_of_the_config_group_equals_its_formula(choice, pixel) -> None:
    loss = instantiate(compose_config("train", [f"model/loss={choice}"]).model.loss)
    sharp = torch.rand(2, 3, 16, 20)
    outs = [torch.rand(2, 3, 4, 5), torch.rand(2, 3, 8, 10), torch.rand(2, 3, 16, 20)]
    assert loss(outs, sharp).item() == pytest.approx(_by_hand(outs, sharp, pixel), rel=1e-5)


def test_a_checkpoint_from_before_the_loss_group_trains_with_the_papers_loss() -> None:
    sharp = torch.rand(1, 3, 8, 8)
    outs = [torch.rand(1, 3, 4, 4), torch.rand(1, 3, 8, 8)]
    old = build_loss({"scale_weights": [0.5, 1.0]})
    assert old(outs, sharp).item() == pytest.approx(multiscale_mse(outs, sharp, [0.5, 1.0]).item())
    with pytest.raises(ConfigError, match=r"model\.loss\.pixel='l2': choose one of mse, l1, charbonnier"):
        MultiScaleLoss("l2")


def test_polynomial_decay_follows_the_paper_schedule() -> None:
    lr, end = 1e-4, 1e-6
    paper = WarmupDecay(max_steps=100, lr=lr, end_lr=end, decay="poly", power=0.3)
    assert paper(0) == pytest.approx(1.0)
    assert paper(100) * lr == pytest.approx(end)
    assert paper(500) * lr == pytest.approx(end)
    assert paper(50) * lr == pytest.approx((lr - end) * 0.5**0.3 + end)
    assert WarmupDecay(100, lr, 0.0, "poly", 0.3)(50) * lr == pytest.approx(lr * 0.5**0.3)


def test_warmup_then_cosine_decay() -> None:
    lr, end = 1e-3, 1e-6
    schedule = WarmupDecay(max_steps=110, lr=lr, end_lr=end, decay="cosine", warmup_steps=10)
    assert [schedule(s) for s in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert schedule(10) == pytest.approx(1.0)
    assert schedule(60) * lr == pytest.approx((lr - end) * 0.5 + end)  # half-way down the cosine
    assert schedule(85) * lr == pytest.approx((lr - end) * 0.5 * (1 + math.cos(0.75 * math.pi)) + end)
    assert schedule(110) * lr == pytest.approx(end) and schedule(1000) * lr == pytest.approx(end)


def test_warmup_then_constant() -> None:
    schedule = WarmupDecay(max_steps=100, lr=5e-4, end_lr=5e-4, decay="constant", warmup_steps=4)
    assert [schedule(s) for s in (0, 3, 4, 50, 99, 500)] == pytest.approx([0.25, 1.0, 1.0, 1.0, 1.0, 1.0])
    cfg = compose_config("train", ["model/scheduler=constant", "model.scheduler.warmup_steps=4"])
    built = instantiate(cfg.model.scheduler)(max_steps=100)
    assert [built(s) for s in (1, 60)] == pytest.approx([0.5, 1.0])


def test_schedule_options_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"decay must be one of \['poly', 'cosine', 'constant'\], got 'step'"):
        WarmupDecay(100, 1e-4, 1e-6, decay="step")
    with pytest.raises(ConfigError, match="warmup_steps=100"):
        WarmupDecay(100, 1e-4, 1e-6, warmup_steps=100)


def test_divergence_guard_stops_at_a_non_finite_loss_or_above_the_bound() -> None:
    guard = DivergenceGuard(max_loss=1.0)
    trainer = SimpleNamespace(global_step=7, world_size=1)
    guard.on_train_batch_end(trainer, None, {"loss": torch.tensor(0.5)}, None, 0)
    with pytest.raises(TrainingDiverged, match=r"diverged at step 7: loss 2 \(last finite loss 0.5\)") as info:
        guard.on_train_batch_end(trainer, None, {"loss": torch.tensor(2.0)}, None, 0)
    assert info.value.record() == {"step": 7, "loss": "2.0", "last_finite_loss": 0.5}
    with pytest.raises(TrainingDiverged, match="loss nan"):
        DivergenceGuard().on_train_batch_end(trainer, None, torch.tensor(float("nan")), None, 0)
    DivergenceGuard().on_train_batch_end(trainer, None, torch.tensor(1e6), None, 0)  # no bound: finite is fine


def test_gradient_ratio_matches_numpy_and_orders_blur_truth_and_sharpening() -> None:
    torch.manual_seed(2)
    sharp = torch.rand(1, 3, 48, 64)
    blurry = F.avg_pool2d(F.pad(sharp, (2, 2, 2, 2), mode="replicate"), 5, stride=1)
    sharpened = (2 * sharp - blurry).clamp(0, 1)

    def numpy_ratio(a: torch.Tensor, b: torch.Tensor) -> float:
        weights = np.array([0.299, 0.587, 0.114])
        energies = []
        for image in (a, b):
            luma = np.tensordot(weights, image[0].double().numpy(), axes=1)
            dy, dx = np.gradient(luma)
            energies.append(np.hypot(dx, dy).mean())
        return energies[0] / energies[1]

    ratios = per_image_gradient_ratio(torch.cat([sharp, blurry, sharpened]), sharp.expand(3, -1, -1, -1))
    assert ratios[0].item() == pytest.approx(1.0, abs=1e-6)
    assert ratios[1].item() == pytest.approx(numpy_ratio(blurry, sharp), rel=1e-4) and ratios[1] < 0.7
    assert ratios[2].item() == pytest.approx(numpy_ratio(sharpened, sharp), rel=1e-4) and ratios[2] > 1.1


def test_metrics_come_from_the_registry_by_name() -> None:
    scores = ImageScores(["psnr", "grad_ratio"])
    sharp = torch.rand(2, 3, 16, 16)
    scores.update(sharp, sharp)
    assert set(scores.compute()) == {"psnr", "grad_ratio"} and scores.compute()["grad_ratio"] == pytest.approx(1.0)
    assert set(METRICS) >= {"psnr", "ssim", "grad_ratio"}
    with pytest.raises(ConfigError, match=r"model.metrics: unknown \['lpips'\]; choose from \['grad_ratio'"):
        ImageScores(["psnr", "lpips"])
    cfg = compose_config("train", ["profile=smoke", "model.metrics=[psnr,ssim,grad_ratio]"])
    assert DeblurModule.from_config(cfg).val_scores.names == ("psnr", "ssim", "grad_ratio")


def test_run_progress_resumes_its_history_also_from_checkpoints_of_srnlab_0_1() -> None:
    old = {"val_history": [{"step": 100, "val/psnr": 20.0}], "train_time_s": 12.5, "callbacks": {}}
    progress = RunProgress()
    progress.on_load_checkpoint(None, None, old)
    state = progress.state_dict()
    assert state["val_history"] == old["val_history"] and 12.5 <= state["train_time_s"] < 13.5
    resumed = RunProgress()
    resumed.load_state_dict(state)
    assert resumed.val_history == old["val_history"] and resumed.train_time_s >= state["train_time_s"]
    assert describe_validation(600, {"val/psnr": 21.614, "val/ssim": 0.55, "val/blur_psnr": 23.56,
                                     "val/blur_ssim": 0.7598, "val/grad_ratio": 0.9}) == (
        "step 600: val/psnr 21.61 dB, ssim 0.5500 (blurry input 23.56 dB, 0.7598), val/grad_ratio 0.9000"
    )  # fmt: skip
