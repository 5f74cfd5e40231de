"""Commands that do not train never import Lightning (about 9 s on 2 CPU cores, far longer than deblurring a
photo with the shipped network takes), and `srn-train` loads it only after Hydra has accepted the config."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
from cli import REPO

HEAVY = ("pytorch_lightning", "lightning_fabric", "torchmetrics", "albumentations")

# Each step runs one command as its console script would, then records which heavy modules are loaded so far.
SCRIPT = """
import json, sys
from srnlab.cli import deblur, export, synth, train

OUT, PHOTO, CKPT, HEAVY = *sys.argv[1:4], json.loads(sys.argv[4])

def loaded(step):
    print(json.dumps([step, sorted(m for m in HEAVY if m in sys.modules)]), flush=True)

def run(step, main, argv):
    sys.argv = [step, *argv]
    try:
        main()
    except SystemExit as e:
        assert e.code == {"srn-train": 2}.get(step, 0), (step, e.code)
    loaded(step)

loaded("import")
run("srn-train", train.main, ["experiment=table1/nope"])
run("srn-deblur", deblur.main, ["--device", "cpu", "--out", OUT + "/shipped", PHOTO])
run("srn-deblur", deblur.main, ["--ckpt", CKPT, "--out", OUT + "/ckpt", PHOTO])
run("srn-export", export.main, [CKPT, "--out", OUT + "/model.safetensors"])
run("srn-synth", synth.main, ["--out", OUT + "/set", "--n-train", "1", "--n-test", "1", "--size", "48", "64"])
"""


def test_deblurring_exporting_and_synthesising_never_import_lightning(smoke_checkpoint, tmp_path) -> None:
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(photo), str(smoke_checkpoint), json.dumps(HEAVY)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("[")]
    assert [step for step, _ in steps] == ["import", "srn-train", "srn-deblur", "srn-deblur", "srn-export", "srn-synth"]
    assert all(heavy == [] for _, heavy in steps), steps
    assert "Could not find 'experiment/table1/nope'" in proc.stderr
    assert (tmp_path / "shipped" / "photo_deblurred.png").is_file() and (
        tmp_path / "ckpt" / "photo_deblurred.png"
    ).is_file()
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "set" / "recipe.json").is_file()
