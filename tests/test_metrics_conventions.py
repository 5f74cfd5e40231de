"""The metric conventions (psnr_y, ssim_y, ssim_3d, crop_border) against independent code: scikit-image, scipy,
BasicSR's own numbers and values worked out by hand; and results folders written before them still read."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from srnlab.config import TABLE1_IDS, compose_config
from srnlab.errors import ConfigError
from srnlab.evaluation import evaluate
from srnlab.image_io import read_image, to_tensor
from srnlab.lit.metrics import CONVENTIONS, DEFAULT_METRICS, METRICS, ImageScores, score_images, ssim_3d_map
from srnlab.lit.module import DeblurModule
from srnlab.report.claims import CLAIMS_KEY
from srnlab.report.dashboard.figure import ResultsData
from srnlab.report.dashboard.spec import read_variants, table1_panels, table_columns
from srnlab.report.rows import collect_rows
from srnlab.report.summary import summarize
from srnlab.report.sweep import Sweep
from srnlab.report.table import columns_for, format_markdown, records
from srnlab.report.table1 import rejudge_claims
from srnlab.runs.results import Budget, RunResult
from srnlab.studies.pages import replace_section

REPO = Path(__file__).resolve().parents[1]
MINI = REPO / "ablations" / "results" / "mini"
CONVENTION_NAMES = ("psnr", "psnr_y", "ssim", "ssim_y", "ssim_3d")
# BasicSR's calculate_psnr / calculate_ssim on the two real GoPro pairs (issue 33): pair 1 is GOPR0384_11_00,
# pair 2 the DeepDeblur example (realdata/INDEX.md gives their RGB PSNRs, 24.05 and 25.11 dB)
BASICSR = {
    "GOPR0384_11_00": {"psnr": 24.0500, "ssim": 0.7170, "ssim_y": 0.7467},
    "DeepDeblurExample_seq4_frame1": {"psnr": 25.1070, "ssim": 0.8210, "ssim_y": 0.8309},
}
C1 = (0.01 * 1.0) ** 2  # MATLAB's (K1 L)^2 for data in [0, 1]


def image_pairs(seed: int, shape: tuple[int, ...] = (2, 3, 40, 48)) -> tuple[torch.Tensor, torch.Tensor]:
    """8-bit images with structure (a smooth gradient under texture) and a noisy, darker copy of them."""
    generator = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(0, 1, shape[-1]).expand(shape)
    sharp = (0.6 * ramp + 0.4 * torch.rand(shape, generator=generator)).clamp(0, 1)
    noisy = 0.9 * sharp + 0.08 * torch.randn(shape, generator=generator)
    return (torch.round(x.clamp(0, 1) * 255) / 255 for x in (noisy, sharp))


def hwc(image: torch.Tensor) -> np.ndarray:
    return image.permute(1, 2, 0).double().numpy()


def skimage_luma(image: torch.Tensor) -> np.ndarray:
    """scikit-image's BT.601 Y of a [0, 1] RGB image, on 16..235."""
    return rgb2ycbcr(hwc(image))[..., 0]


def matlab_ssim_reference(a: np.ndarray, b: np.ndarray) -> float:
    """MATLAB's ssim() of two H x W x 3 arrays in [0, 1], written with scipy: one isotropic Gaussian (sigma 1.5,
    radius 5) over all three axes, 'nearest' = MATLAB's 'replicate' padding, the mean of the whole map."""

    def f(x: np.ndarray) -> np.ndarray:
        return gaussian_filter(x, sigma=1.5, radius=5, mode="nearest")

    c2 = (0.03 * 1.0) ** 2
    mu_a, mu_b = f(a), f(b)
    var_a, var_b, cov = f(a * a) - mu_a**2, f(b * b) - mu_b**2, f(a * b) - mu_a * mu_b
    ssim_map = (2 * mu_a * mu_b + C1) * (2 * cov + c2) / ((mu_a**2 + mu_b**2 + C1) * (var_a + var_b + c2))
    return float(ssim_map.mean())


def test_psnr_y_and_ssim_y_equal_scikit_images_luma_scores() -> None:
    preds, target = image_pairs(0)
    scores = score_images(preds, target, ["psnr_y", "ssim_y"])
    for i in range(len(preds)):
        y_pred, y_true = skimage_luma(preds[i]), skimage_luma(target[i])
        psnr = peak_signal_noise_ratio(y_true, y_pred, data_range=255)
        ssim = structural_similarity(y_true, y_pred, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=255)  # fmt: skip
        assert scores["psnr_y"][i].item() == pytest.approx(psnr, abs=1e-4)
        assert scores["ssim_y"][i].item() == pytest.approx(ssim, abs=1e-6)


def test_luma_metrics_need_rgb_images() -> None:
    gray = torch.rand(1, 1, 16, 16)
    with pytest.raises(ConfigError, match="psnr_y and ssim_y need RGB images, got 1 channel"):
        score_images(gray, gray, ["ssim_y"])


def test_every_convention_reproduces_basicsr_and_scikit_image_on_the_real_gopro_pairs(realdata) -> None:
    """RGB first, to be sure which pair is which; then the luma, against BasicSR's numbers (1e-3) and against
    scikit-image (its PSNR of the same luma: BasicSR's PSNR-Y was not measured)."""
    for sequence, basicsr in BASICSR.items():
        folder = realdata / "gopro_mini" / "test" / sequence
        blur, sharp = (to_tensor(read_image(folder / k / "000001.png"))[None] for k in ("blur", "sharp"))
        ours = {k: v.item() for k, v in score_images(blur, sharp, CONVENTION_NAMES).items()}
        assert ours["psnr"] == pytest.approx(basicsr["psnr"], abs=1e-3), sequence
        assert ours["ssim"] == pytest.approx(basicsr["ssim"], abs=1e-3), sequence
        assert ours["ssim_y"] == pytest.approx(basicsr["ssim_y"], abs=1e-3), sequence
        psnr_y = peak_signal_noise_ratio(skimage_luma(sharp[0]), skimage_luma(blur[0]), data_range=255)
        assert ours["psnr_y"] == pytest.approx(psnr_y, abs=1e-4), sequence
        assert ours["ssim_3d"] == pytest.approx(matlab_ssim_reference(hwc(blur[0]), hwc(sharp[0])), abs=1e-6)


def test_the_3d_ssim_map_equals_scikit_images_n_dimensional_ssim_inside_the_padding() -> None:
    """scikit-image's SSIM of a volume uses the same window (Gaussian sigma 1.5, 11 taps per axis) but reflects
    at the edges where MATLAB replicates: inside the 5-voxel border the maps must agree to float64 rounding
    (tolerance 1e-9). 16 x 32 x 32 volumes: an 11-wide window needs more than 3 slices to have an inside."""
    generator = np.random.default_rng(3)
    a = generator.random((16, 32, 32))
    b = np.clip(a + 0.2 * generator.standard_normal(a.shape), 0, 1)
    mean, full = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=1.0, full=True)  # fmt: skip
    ours = ssim_3d_map(torch.from_numpy(a), torch.from_numpy(b), 1.0).numpy()
    inside = (slice(5, -5),) * 3
    assert ours.shape == a.shape
    np.testing.assert_allclose(ours[inside], full[inside], rtol=0, atol=1e-9)
    assert ours[inside].mean() == pytest.approx(mean, abs=1e-9)


def test_ssim_3d_is_matlabs_volume_ssim_on_colour_images() -> None:
    """Against the scipy reference (replicate padding of the 3-long colour axis included, no border cut), to
    1e-6 (the score is returned in fp32)."""
    preds, target = image_pairs(1)
    ours = METRICS["ssim_3d"](preds, target)
    for i in range(len(preds)):
        assert ours[i].item() == pytest.approx(matlab_ssim_reference(hwc(preds[i]), hwc(target[i])), abs=1e-6)
    assert torch.allclose(METRICS["ssim_3d"](preds.flip(1), target.flip(1)), ours, atol=1e-6)  # RGB or BGR alike


def test_ssim_3d_by_hand_on_tiny_arrays() -> None:
    """Identical images score 1; two constant images a and b have no variance, so the map is
    (2ab + C1) / (a^2 + b^2 + C1) everywhere."""
    image = torch.rand(1, 3, 4, 5)
    assert METRICS["ssim_3d"](image, image).item() == pytest.approx(1.0, abs=1e-6)
    for a, b in ((0.2, 0.7), (0.5, 0.5), (0.0, 1.0)):
        expected = (2 * a * b + C1) / (a**2 + b**2 + C1)
        got = METRICS["ssim_3d"](torch.full((1, 3, 4, 5), a), torch.full((1, 3, 4, 5), b)).item()
        assert got == pytest.approx(expected, abs=1e-6)


def test_crop_border_is_slicing_by_hand_for_every_metric() -> None:
    preds, target = image_pairs(2, (2, 3, 48, 56))
    names = list(METRICS)
    cut = score_images(preds, target, names, crop_border=7)
    sliced = score_images(preds[..., 7:-7, 7:-7], target[..., 7:-7, 7:-7], names)
    for name in names:
        torch.testing.assert_close(cut[name], sliced[name], rtol=0, atol=0)
    assert not torch.equal(cut["ssim_3d"], score_images(preds, target, ["ssim_3d"])["ssim_3d"])
    scores = ImageScores(names, crop_border=7)
    scores.update(preds, target)
    assert scores.compute()["psnr"].item() == pytest.approx(sliced["psnr"].mean().item(), abs=1e-5)


def test_every_convention_is_computed_outside_autocast() -> None:
    """Lightning validates under autocast: a bf16 Gaussian filter would change SSIM in its second digit."""
    preds, target = image_pairs(4)
    reference = score_images(preds, target, list(METRICS))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        scores = score_images(preds, target, list(METRICS))
    for name in METRICS:
        assert scores[name].dtype == torch.float32, name
        torch.testing.assert_close(scores[name], reference[name], rtol=0, atol=0)


@pytest.mark.parametrize("pixels", [-1, 2.5, True, "4"])
def test_a_crop_border_that_is_no_pixel_count_is_refused_naming_the_option(pixels: object) -> None:
    with pytest.raises(ConfigError, match=r"model\.crop_border: the pixels cut off each side"):
        ImageScores(crop_border=pixels)


def test_a_crop_border_that_leaves_nothing_is_refused_naming_the_option() -> None:
    image = torch.rand(1, 3, 10, 20)
    with pytest.raises(ConfigError, match=r"model.crop_border=5 leaves nothing of a 10x20 image"):
        score_images(image, image, ["psnr"], crop_border=5)


def test_the_config_selects_conventions_and_the_crop_for_training() -> None:
    model = compose_config("train", ["profile=smoke"]).model
    assert list(model.metrics) == list(DEFAULT_METRICS) == ["psnr", "ssim", "ssim_3d"] and model.crop_border == 0
    cfg = compose_config("train", ["profile=smoke", "model.metrics=[psnr_y,ssim_y]", "model.crop_border=4"])
    module = DeblurModule.from_config(cfg)
    assert module.val_scores.names == ("psnr_y", "ssim_y") and module.test_blur_scores.crop_border == 4
    assert set(CONVENTIONS) == set(METRICS) and all(CONVENTIONS[m].text for m in METRICS)


def test_srn_eval_scores_with_the_conventions_and_crop_it_is_given_and_names_them(
    smoke_checkpoint, tmp_path, capsys
) -> None:
    summary = evaluate(compose_config("eval", [
        f"ckpt_path={smoke_checkpoint}", "profile=smoke", f"paths.output_dir={tmp_path}/eval",
        f"paths.data_dir={tmp_path}/data", "data.synthesize.n_train=2", "data.synthesize.n_test=2",
        "data.synthesize.size=[48,64]", "model.metrics=[psnr,ssim_3d]", "model.crop_border=3",
    ]))  # fmt: skip
    assert summary["crop_border"] == 3 and list(summary["conventions"]) == ["psnr", "ssim_3d"]
    assert "MATLAB" in summary["conventions"]["ssim_3d"]
    with (tmp_path / "eval" / "metrics.csv").open(newline="") as f:
        assert list(next(csv.reader(f))) == ["name", "psnr", "ssim_3d", "blur_psnr", "blur_ssim_3d"]
    report = capsys.readouterr().out
    assert "ssim_3d = SSIM 3-D (MATLAB): MATLAB's ssim()" in report and "3 pixels cut off each side" in report


def test_a_sweep_scored_with_ssim_3d_shows_it_beside_the_papers_ssim_and_names_every_convention(tmp_path) -> None:
    scores = {"test/psnr": 24.0, "test/ssim": 0.8, "test/blur_psnr": 23.0, "test/blur_ssim": 0.7,
              "test/ssim_3d": 0.85, "test/blur_ssim_3d": 0.78, "test/psnr_y": 25.5}  # fmt: skip
    for exp_id in ("ss", "sr_edrb3"):
        RunResult({"id": exp_id}, Budget(4, 32, 2, 0.25), "smoke", test=scores, params=1, crop_border=4).write(
            tmp_path / exp_id
        )
    rows = collect_rows(Sweep.read(tmp_path).seed_results, {i: summarize(i) for i in ("ss", "sr_edrb3")})
    names = [c.name for c in columns_for(rows)]
    assert names[names.index("paper_ssim") + 1] == "ssim_3d"
    assert names[-3:] == ["blur_ssim_3d", "psnr_y", "status"]
    table = format_markdown(rows, [RunResult.read(tmp_path / "ss")])
    assert ("| PSNR (RGB) | PSNR 95 % CI | SSIM (RGB, skimage) | paper PSNR (MATLAB) | paper SSIM (MATLAB 3-D) | "
            "SSIM 3-D (MATLAB) | blurry input PSNR / SSIM (RGB, skimage) |") in table  # fmt: skip
    assert "| blurry input SSIM 3-D (MATLAB) | PSNR (Y, BasicSR) | status |" in table
    assert "| 0.8500 | 24.08 / 0.7820 |" not in table and "| 0.8500 | 23.00 / 0.7000 |" in table
    assert "| 0.7800 | 25.50 | ok |" in table and "4 px" in table
    assert records(rows)[0]["ssim_3d"] == 0.85


def test_a_results_folder_written_before_the_conventions_still_reads(tmp_path) -> None:
    """The committed mini results (no ssim_3d, no crop_border): the dashboard's readers, its panels and the
    claims read them as before, and a sweep of the same kind still makes exactly their CSV columns."""
    results = tmp_path / "mini"
    shutil.copytree(MINI, results)
    with (MINI / "table1.csv").open(newline="") as f:
        committed = list(csv.DictReader(f))
    assert "ssim_3d" not in table_columns(results)
    assert [v["id"] for v in read_variants(results)] == list(TABLE1_IDS)
    data = ResultsData(results)
    for row in committed:
        assert data.summary(row["id"], "test/ssim") == float(row["ssim"])
        assert data.summary(row["id"], "test/ssim_3d") is None
    spec = json.loads((MINI / "wandb-dashboard.json").read_text())
    assert spec["workspace"]["sections"][0]["panels"] == table1_panels(table_columns(results))
    assert "Pairs: " in (results / "table1.md").read_text()
    assert rejudge_claims(results) and (results / f"{CLAIMS_KEY}.csv").is_file()

    old_scores = {"test/psnr": 24.0, "test/ssim": 0.8, "test/blur_psnr": 23.0, "test/blur_ssim": 0.7}
    for exp_id in TABLE1_IDS:
        job = tmp_path / "sweep" / exp_id
        RunResult({"id": exp_id}, Budget(4, 32, 2, 0.25), "mini", test=old_scores, params=1).write(job)
        record = json.loads((job / "result.json").read_text())
        del record["crop_border"]  # as srnlab wrote it before the option
        (job / "result.json").write_text(json.dumps(record))
    jobs = Sweep.read(tmp_path / "sweep")
    assert all(r.crop_border == 0 for seeds in jobs.seed_results.values() for r in seeds.values())
    rows = collect_rows(jobs.seed_results, {i: summarize(i) for i in TABLE1_IDS})
    assert {c.name for c in columns_for(rows)} == set(committed[0])


def test_the_side_by_side_study_tabulates_every_convention_into_the_page(tmp_path) -> None:
    """srnlab.studies.metric_conventions on made-up records: the rows of each real pair, their mean, the
    differences a reader converts with, and the page's marked section replaced."""
    from srnlab.studies import metric_conventions as study

    values = dict(zip(CONVENTION_NAMES, (25.0, 26.5, 0.80, 0.82, 0.88), strict=True))
    records = [
        {"name": f"{sequence}/000001.png", **{k: v + i for k, v in values.items()},
         **{f"blur_{k}": v - 0.01 for k, v in values.items()}}
        for i, sequence in enumerate(study.REAL_PAIRS.values())
    ]  # fmt: skip
    lines = study.real_pair_lines(records)
    assert [(line.images.split(":")[0], line.scored) for line in lines] == [
        ("real pair 1", "blurry input"), ("real pair 1", "shipped network"),
        ("real pair 2", "blurry input"), ("real pair 2", "shipped network"),
        ("real pairs, mean of 2", "blurry input"), ("real pairs, mean of 2", "shipped network"),
    ]  # fmt: skip
    assert lines[5].scores["psnr"] == pytest.approx(25.5)
    table = study.markdown(lines)
    assert table.splitlines()[0].startswith("| images | scored | PSNR (RGB) | PSNR (Y, BasicSR) | SSIM (RGB, skimage)")
    assert table.splitlines()[3].endswith("| 25.00 | 26.50 | 0.8000 | 0.8200 | 0.8800 | +1.50 | +0.0800 |")
    page = tmp_path / "page.md"
    page.write_text(f"before\n{study.MARKERS[0]}\nold\n{study.MARKERS[1]}\nafter\n")
    replace_section(page, study.MARKERS, table)
    assert page.read_text() == f"before\n{study.MARKERS[0]}\n{table}\n{study.MARKERS[1]}\nafter\n"
    shipped = (REPO / study.PAGE).read_text().split(study.MARKERS[0])[1].split(study.MARKERS[1])[0]
    assert shipped.strip().splitlines()[0] == table.splitlines()[0], "the page's table is the study's"
