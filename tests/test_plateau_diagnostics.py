"""src/srnlab/studies/plateau_diagnostics.py: its least-squares filter, its scoring and a run end to end."""

from __future__ import annotations

import shutil
import subprocess
import sys

import cv2
import numpy as np
from cli import REPO
from skimage.metrics import peak_signal_noise_ratio

from srnlab.studies import plateau_diagnostics as diagnostics


def test_linear_filter_recovers_a_known_kernel():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(5, 5)).astype(np.float32)
    blurs = [rng.uniform(size=(40, 48, 3)).astype(np.float32) for _ in range(3)]
    pairs = [(b, cv2.filter2D(b, -1, kernel, borderType=cv2.BORDER_REFLECT)) for b in blurs]
    np.testing.assert_allclose(diagnostics.linear_filter(pairs, 5, samples=300, seed=1), kernel, atol=1e-4)


def test_margin_is_zero_for_the_input_and_psnr_follows_scikit_image():
    rng = np.random.default_rng(1)
    split = [(rng.uniform(size=(16, 20, 3)).astype(np.float32), rng.uniform(size=(16, 20, 3)).astype(np.float32))]
    split = [(np.round(b * 255) / 255, np.round(s * 255) / 255) for b, s in split]
    blur, gain = diagnostics.mean_margin([b for b, _ in split], split)
    assert gain == 0.0
    assert abs(blur - peak_signal_noise_ratio(split[0][1], split[0][0], data_range=1.0)) < 1e-3


def test_runs_on_a_trained_checkpoint(smoke_checkpoint, tmp_path):
    data = smoke_checkpoint.parents[2] / "data"
    plot = tmp_path / "gains.png"
    last = tmp_path / "myrun" / "checkpoints" / "last.ckpt"  # labelled by its run folder
    last.parent.mkdir(parents=True)
    shutil.copy(smoke_checkpoint, last)
    proc = subprocess.run(
        [sys.executable, "-m", "srnlab.studies.plateau_diagnostics", "--train", str(data / "train"),
         "--test", str(data / "test"),
         "--seen", str(data / "test"), "--weights", str(last), str(smoke_checkpoint), f"{smoke_checkpoint}=again",
         "--pairs", "2", "--filter-sizes", "3", "--centroid-pairs", "2", "--plot", str(plot)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split(" | ") for line in proc.stdout.splitlines() if line.startswith("| ")][1:]
    assert [r[1] for r in rows] == ["test"] + ["train", "seen", "test"] * 3, proc.stdout
    labels = [r[0].strip("| ") for r in rows[1:]]
    assert labels == ["myrun"] * 3 + [smoke_checkpoint.name] * 3 + ["again"] * 3
    assert rows[1][2:] == rows[4][2:] == rows[7][2:]  # the same network scores the same under any label
    assert rows[2][2:] == rows[3][2:]  # --seen given the test split: the same pairs, the same scores
    image = cv2.imread(str(plot))
    assert image is not None and image.shape[0] > 100, "the bar chart was not written"
    assert "of the path length" in proc.stdout
