"""`srn-train`: train one variant, or a multirun sweep of them (`--config-name table1`), with the Hydra configs
of srnlab/conf (train.yaml).

Lightning is imported inside the job, after Hydra has composed the config: it takes about 9 s to import on a
2-core CPU, and `--help`, `--cfg job` or a mistyped option should answer in a second, not after it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from srnlab.cli.runtime import discard_if_untouched, run_hydra_app
from srnlab.config import CONFIG_DIR
from srnlab.runs.files import run_folder_lock, write_hydra_record


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def app(cfg: DictConfig) -> float | None:
    """One job: the folder is locked first, so that a job refused for a busy folder never touches it."""
    from srnlab.infer.memory import keep_freed_memory
    from srnlab.lit.callbacks import Interrupted
    from srnlab.training import assign_job_gpu, train

    keep_freed_memory()
    folder = Path(cfg.paths.output_dir)
    try:
        with run_folder_lock(folder), discard_if_untouched(folder):
            write_hydra_record(folder, cfg)
            assign_job_gpu(cfg)
            result = train(cfg)
    except Interrupted as stop:
        sys.stderr.write(f"srn-train: {cfg.variant.id}: {stop} in {folder}; run the same command again to resume\n")
        raise SystemExit(stop.exit_code) from None
    if result.status == "diverged" and cfg.get("fail_fast", True):
        raise SystemExit(f"srn-train: error: {cfg.variant.id}: {result.error}")
    return result.test.get("test/psnr")


def main() -> None:
    run_hydra_app("srn-train", app)


if __name__ == "__main__":
    main()
