"""Every config the README promises composes, and every config value names its source."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from srnlab.config import CONFIG_DIR, TABLE1_IDS, compose_config, experiment_path

PROFILES = tuple(sorted(p.stem for p in (CONFIG_DIR / "profile").glob("*.yaml")))  # every profile, study arms too


def test_the_table1_sweep_lists_every_table1_experiment_once_in_the_papers_order() -> None:
    files = sorted(p.stem for p in (CONFIG_DIR / "experiment" / "table1").glob("*.yaml"))
    assert sorted(TABLE1_IDS) == files and len(set(TABLE1_IDS)) == len(TABLE1_IDS) == 10
    assert TABLE1_IDS[0] == "ss" and TABLE1_IDS[-1] == "sr_edrb3"  # the paper's first and last rows


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("experiment", [*TABLE1_IDS, "srn_full"])
def test_every_experiment_composes_with_every_profile(experiment: str, profile: str) -> None:
    cfg = compose_config("train", [f"experiment={experiment_path(experiment)}", f"profile={profile}"])
    assert cfg.variant.id == experiment and cfg.profile_name == profile
    assert cfg.data.crop_size > 0 and cfg.trainer.max_steps > 0


def test_paper_profile_holds_the_paper_protocol() -> None:
    cfg = compose_config("train", ["experiment=table1/sr_edrb3", "profile=paper"])
    assert (cfg.data.crop_size, cfg.data.batch_size, cfg.data.val_crop_size) == (256, 16, None)
    assert cfg.model.optimizer.lr == 1e-4 and list(cfg.model.optimizer.betas) == [0.9, 0.999]
    assert cfg.model.scheduler.power == 0.3 and cfg.model.kernel_size == 3
    assert (cfg.model.scheduler.decay, cfg.model.scheduler.end_lr, cfg.model.scheduler.warmup_steps) == (
        "poly",
        1e-6,
        0,
    )
    assert cfg.model.optimizer._target_ == "torch.optim.Adam" and cfg.model.net.residual is False
    assert cfg.trainer.accelerator == "gpu" and cfg.model.net.width_mult == 1.0


@pytest.mark.parametrize(
    ("launcher", "target"),
    [
        ("basic", "BasicLauncher"),
        ("joblib", "JoblibLauncher"),
        ("gpus", "JoblibLauncher"),
        ("slurm", "SlurmLauncher"),
        ("submitit_slurm", "SlurmLauncher"),
    ],
)
def test_launchers_compose(launcher: str, target: str) -> None:
    cfg = compose_config("train", [f"hydra/launcher={launcher}", "spread_jobs_over_gpus=4"])
    assert cfg.hydra.launcher._target_.endswith(target)


@pytest.mark.parametrize("trainer", ["cpu", "gpu", "ddp", "ddp_cpu"])
def test_trainer_configs_compose(trainer: str) -> None:
    cfg = compose_config("train", [f"trainer={trainer}"])
    assert cfg.trainer._target_ == "pytorch_lightning.Trainer"


def test_data_configs_instantiate(tmp_path) -> None:
    gopro = compose_config("train", ["data=gopro", f"data.root={tmp_path}"])
    assert instantiate(gopro.data).root == Path(tmp_path)
    synthetic = compose_config("train", [f"paths.data_dir={tmp_path}"])
    assert instantiate(synthetic.data).root == Path(tmp_path) / "synthetic"


def test_every_number_in_model_and_profile_configs_names_its_source() -> None:
    """Configs are data: each numeric value carries a comment saying where it comes from."""
    missing = []
    for path in [*CONFIG_DIR.glob("model/**/*.yaml"), *CONFIG_DIR.glob("data/*.yaml")]:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            value = line.partition(":")[2]
            value = value.split("#")[0].strip()
            if value and value.replace(".", "").replace("e-", "").replace("-", "").isdigit() and "#" not in line:
                missing.append(f"{path.relative_to(CONFIG_DIR)}:{number}: {line.strip()}")
    assert not missing, "numbers without a source comment:\n" + "\n".join(missing)


def test_the_shipped_networks_three_stages_train_one_network_on_three_blurs() -> None:
    """`make pretrained` starts each stage from the last one's checkpoint: all three must build the same network
    with the same optimiser, batch, scenes and orientations, and differ only in the blur (stage 1: one path
    length, no acceleration; stage 2: every length, no acceleration; stage 3: the default blur), the number of
    pairs and the schedule (constant until the last stage, which decays)."""
    stages = [
        compose_config("train", [f"experiment={e}"]) for e in ("pretrained_stage1", "pretrained_stage2", "pretrained")
    ]
    shared = (
        "model.net",
        "model.optimizer",
        "data.batch_size",
        "data.crop_size",
        "data.hflip",
        "data.vflip",
        "data.rot90",
        "data.synthesize.extra_training_photos",
        "data.synthesize.dead_leaves",
        "variant",
    )
    for key in shared:
        assert len({str(OmegaConf.select(stage, key)) for stage in stages}) == 1, key
    assert len({stage.data.root for stage in stages}) == 3
    blur = [OmegaConf.to_container(stage.data.synthesize) for stage in stages]
    assert blur[0]["path_length"] == [16, 16] and blur[0]["acceleration"] == 0
    assert "path_length" not in blur[1] and blur[1]["acceleration"] == 0
    assert "path_length" not in blur[2] and "acceleration" not in blur[2] and blur[2]["dead_leaves"] == 33
    assert [stage.model.scheduler.decay for stage in stages] == ["constant", "constant", "cosine"]
    assert [stage.trainer.max_steps for stage in stages] == [5000, 2500, 2000]
