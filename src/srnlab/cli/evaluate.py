"""`srn-eval`: score a trained checkpoint (or weights file) on the test or validation pairs, per image and on
average, with the Hydra configs of srnlab/conf (eval.yaml). Lightning is imported inside the job, after Hydra
has composed the config (why: srnlab.cli.train)."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from srnlab.cli.runtime import discard_if_untouched, run_hydra_app
from srnlab.config import CONFIG_DIR
from srnlab.runs.files import write_hydra_record


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="eval")
def app(cfg: DictConfig) -> float:
    from srnlab.evaluation import evaluate
    from srnlab.infer.memory import keep_freed_memory

    keep_freed_memory()
    with discard_if_untouched(Path(cfg.paths.output_dir)):
        write_hydra_record(Path(cfg.paths.output_dir), cfg)
        return evaluate(cfg)["mean_psnr"]


def main() -> None:
    run_hydra_app("srn-eval", app)


if __name__ == "__main__":
    main()
