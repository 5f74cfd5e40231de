"""src/srnlab/studies/margin_curves.py: margins read from runs' progress files, tabulated and plotted."""

from __future__ import annotations

import json

import pytest

from srnlab.studies import margin_curves


def write_run(folder, points):
    folder.mkdir()
    history = [{"step": s, "val/psnr": p, "val/blur_psnr": b, "val/ssim": 0.5} for s, p, b in points]
    (folder / "progress.json").write_text(json.dumps({"val_history": history}))


def test_margins_are_tabulated_and_plotted(tmp_path, capsys):
    write_run(tmp_path / "a", [(500, 25.0, 24.0), (1000, 25.5, 24.0), (1500, 25.25, 24.0)])
    write_run(tmp_path / "b", [(500, 22.0, 22.5)])
    out = tmp_path / "plot.png"
    margin_curves.main([f"{tmp_path / 'a'}=four directions", f"{tmp_path / 'b'}=default", "--out", str(out)])
    printed = capsys.readouterr().out.splitlines()
    assert printed[2] == "| four directions | +1.00 | +1.50 |  | +1.25 (step 1,500) | +1.50 (step 1,000) |"
    assert printed[3] == "| default | -0.50 |  |  | -0.50 (step 500) | -0.50 (step 500) |"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit, match=r"progress\.json: not found"):
        margin_curves.main([f"{tmp_path}=nothing", "--out", str(out)])
