"""data/pairs: the same pairs laid out as GOPRO folders, list files and two parallel folders read the same, train,
and each layout names what is wrong with it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate

from srnlab.cli.runtime import user_message
from srnlab.config import compose_config
from srnlab.data.gopro import GoProPairs
from srnlab.data.pairs import DatasetError, FolderPairs, ListPairs
from srnlab.data.synth import synthesize_dataset
from srnlab.errors import ConfigError
from srnlab.training import train

SMALL = {"n_train": 4, "n_test": 2, "size": (64, 80)}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[str, Path]:
    """One synthetic set in all three layouts: GOPRO folders, RealBlur-style lists (sharp first), two folders."""
    base = tmp_path_factory.mktemp("layouts")
    gopro = base / "gopro"
    synthesize_dataset(gopro, progress=False, **SMALL)
    listed, folders = base / "listed", base / "folders"
    for split in ("train", "test"):
        lines = []
        for pair in GoProPairs(gopro, split).pairs:
            stem = pair.name.replace("/", "_")
            for kind, source in (("blur", pair.blur), ("sharp", pair.sharp)):
                shutil.copy(source, _mkdirs(listed / "images" / kind / f"{split}_{stem}.png"))
                shutil.copy(source, _mkdirs(folders / split / kind / f"{stem}.png"))
            lines.append(f"images/sharp/{split}_{stem}.png images/blur/{split}_{stem}.png")
        (listed / f"{split}.txt").write_text("# RealBlur order: sharp, then blur\n" + "\n".join(lines) + "\n")
    return {"gopro": gopro, "list": listed, "folders": folders}


def _mkdirs(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_the_three_layouts_hold_the_same_pairs(layouts) -> None:
    gopro = GoProPairs(layouts["gopro"], "test")
    listed = ListPairs(layouts["list"], "test", files={"test": "test.txt"}, order="sharp_blur")
    folders = FolderPairs(layouts["folders"], "test")
    assert len(gopro) == len(listed) == len(folders) == 2
    for k in range(2):
        for other in (listed, folders):
            assert torch.equal(gopro[k]["blur"], other[k]["blur"]) and torch.equal(gopro[k]["sharp"], other[k]["sharp"])


@pytest.mark.parametrize("layout", ["list", "folders"])
def test_a_smoke_run_trains_and_tests_on_each_layout(layouts, tmp_path, layout) -> None:
    files = ["data.pairs.order=sharp_blur", "data.pairs.files.train=train.txt", "data.pairs.files.test=test.txt"]
    cfg = compose_config("train", [
        "profile=smoke", "data=gopro", f"data.root={layouts[layout]}", f"data/pairs={layout}", "logger=csv",
        "data.crop_size=32", f"paths.output_dir={tmp_path}/run", f"paths.log_dir={tmp_path}",
        *(files if layout == "list" else []),
    ])  # fmt: skip
    result = train(cfg)
    assert result.status == "ok" and result.global_step == 4
    assert result.test["test/blur_psnr"] > 15, "the test pairs were read as blurry and sharp, not the other way"


def test_each_layout_names_a_missing_file_an_unpaired_name_and_a_size_mismatch(layouts, tmp_path) -> None:
    listed = tmp_path / "listed"
    shutil.copytree(layouts["list"], listed)
    text = (listed / "test.txt").read_text()
    (listed / "test.txt").write_text(text + "images/sharp/gone.png images/blur/gone.png\nimages/one_path.png\n")
    with pytest.raises(DatasetError) as raised:
        ListPairs(listed, "test", files={"test": "test.txt"}, order="sharp_blur")
    assert "gone.png: no such file" in str(raised.value) and "line 5: expected two paths, found 1" in str(raised.value)
    with pytest.raises(DatasetError, match=r"data\.pairs\.files has no list for the 'train' split"):
        ListPairs(listed, "train", files={"test": "test.txt"})

    folders = tmp_path / "folders"
    shutil.copytree(layouts["folders"], folders)
    first = sorted((folders / "test" / "blur").iterdir())[0]
    first.rename(first.with_name("renamed.png"))
    second = sorted((folders / "test" / "sharp").iterdir())[1]
    synthesize_dataset(tmp_path / "other", progress=False, **{**SMALL, "size": (48, 48)})
    shutil.copy(next((tmp_path / "other" / "test").glob("*/sharp/000001.png")), second)
    with pytest.raises(DatasetError) as raised:
        FolderPairs(folders, "test")
    message = str(raised.value)
    assert "renamed.png: no sharp twin renamed.* in" in message and "no blurry twin" in message
    assert "is 64x80 (HxW) but its sharp twin" in message and "is 48x48" in message


def test_synthesis_writes_the_gopro_layout_only(tmp_path) -> None:
    cfg = compose_config("train", ["profile=smoke", f"data.root={tmp_path}/set", "data/pairs=folders"])
    with pytest.raises(InstantiationException) as raised:
        instantiate(cfg.data)
    assert isinstance(raised.value.__cause__, ConfigError)
    assert user_message(raised.value, "") == "data.synthesize writes the GOPRO layout: use it with data/pairs=gopro"
