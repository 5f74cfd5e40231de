"""DeblurModule: the LightningModule every Table 1 variant trains in."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from srnlab.errors import ConfigError
from srnlab.infer.deblurrer import deblur, in_layout, use_layout
from srnlab.infer.fusion import InferenceFusion
from srnlab.lit.graphed_step import GraphedLoss
from srnlab.lit.losses import build_loss
from srnlab.lit.metrics import (
    DEFAULT_METRICS,
    ImageScores,
    check_crop_border,
    check_metrics,
    quantize,
    score_images,
)
from srnlab.runs.checkpoints import WEIGHTS_SUFFIX, untrusted
from srnlab.runs.weights import check_tensors_fit, read_network

MODEL_DEFAULTS: dict[str, Any] = {  # what a `model` node from before an option existed was trained with
    "optimizer": {}, "scheduler": {}, "loss": None, "recurrent_grad_clip": None, "channels_last": "auto",
    "fuse": "auto", "compile": False, "cuda_graphs": False, "metrics": None, "crop_border": 0, "self_ensemble": False,
}  # fmt: skip


class DeblurModule(pl.LightningModule):
    """Trains and scores the network of a `model` config node (conf/model/srn.yaml, as plain data): `net`,
    `optimizer`, `scheduler`, `loss`, `metrics`, `crop_border` and the options that steer the computation.

    Keeping the configs (not the objects) as hyperparameters lets `load_from_checkpoint` rebuild the exact
    variant with no Hydra config at hand, and lets a checkpoint say which variant it holds (`variant`).
    `overrides` replace entries of `model`: options that only steer inference when loading (channels_last,
    compile, self_ensemble, metrics, crop_border), and the flat keys (net=..., optimizer=...) that checkpoints
    from before the module took the node were saved with.
    """

    def __init__(
        self, model: Mapping[str, Any] | None = None, variant: Mapping[str, Any] | None = None, **overrides: Any
    ) -> None:
        super().__init__()
        model = {**MODEL_DEFAULTS, **(model or {}), **overrides}
        if "net" not in model:
            raise TypeError("DeblurModule needs a model node with a 'net' config")
        self.save_hyperparameters({"model": model, "variant": dict(variant) if variant else None})
        self.net = instantiate(model["net"])
        self.loss_fn = build_loss(model["loss"])
        self.fusion = InferenceFusion(model["fuse"])
        self.use_layout_for(torch.device("cpu"), training=False)
        self.metric_names = check_metrics(model["metrics"] or DEFAULT_METRICS)
        self.crop_border = check_crop_border(model["crop_border"])
        self.val_scores, self.val_blur_scores = self._image_scores(), self._image_scores()
        self.test_scores, self.test_blur_scores = self._image_scores(), self._image_scores()
        self.test_records: list[dict[str, Any]] = []
        self._compiled = False
        self.graphed_loss: GraphedLoss | None = None

    def _image_scores(self) -> ImageScores:
        return ImageScores(self.metric_names, self.crop_border)

    @classmethod
    def from_config(cls, cfg: DictConfig) -> DeblurModule:
        """The module of a composed config: its `model` node and `variant`, resolved to plain data."""
        return cls(OmegaConf.to_container(cfg.model, resolve=True), OmegaConf.to_container(cfg.variant, resolve=True))

    @property
    def settings(self) -> dict[str, Any]:
        """The `model` node this module was built from."""
        return self.hparams.model

    @property
    def flat_hparams(self) -> dict[str, Any]:
        """`net`, `variant` and the model's options in one dict: what srnlab.runs.checkpoints.checkpoint_hparams reads
        from a saved checkpoint, for writers that take the same (srnlab.runs.weights.export_weights)."""
        return {**self.settings, "variant": self.hparams.variant}

    def forward(self, blur: Tensor) -> Tensor:
        """The deblurred image (srnlab.infer.deblurrer.deblur), self-ensembled with `model.self_ensemble`; on a
        CPU, outside training, through oneDNN's fused convolutions (`model.fuse`, srnlab.infer.fusion)."""
        return deblur(self.fusion(self.net), blur, self.channels_last, bool(self.settings["self_ensemble"]))

    def use_layout_for(self, device: torch.device, training: bool) -> None:
        """The weights' memory layout for this device and task (`model.channels_last`, srnlab.infer.deblurrer)."""
        self.channels_last = use_layout(self.net, self.settings["channels_last"], device, training)

    def setup(self, stage: str) -> None:
        """Choose the layout once per Trainer entry point, before the optimizer's state takes the weights'."""
        self.use_layout_for(self.trainer.strategy.root_device, training=stage == "fit")

    def configure_model(self) -> None:
        """Compile the network in place (`model.compile`), or only the training step's forward and loss, replayed
        from CUDA graphs (`model.cuda_graphs`, srnlab.lit.graphed_step): state-dict keys, checkpoints and resume
        stay as they are, only the calls go through TorchInductor. Static shapes: training crops have one size,
        and torch 2.11's Inductor failed on the symbolic sizes of the per-scale padding (docs/speed.md)."""
        if self.settings["cuda_graphs"] and self.settings["compile"]:
            raise ConfigError(
                "model.cuda_graphs compiles the training step itself: set model.compile=false to use it, or "
                "model.cuda_graphs=false to compile the whole network"
            )
        if self.settings["cuda_graphs"] and self.graphed_loss is None:
            self.graphed_loss = GraphedLoss(self.loss_of)
        if self.settings["compile"] and not self._compiled:
            self.net.compile(dynamic=False)
            self._compiled = True

    def loss_of(self, blur: Tensor, sharp: Tensor) -> Tensor:
        return self.loss_fn(self.net(blur), sharp)

    def on_fit_start(self) -> None:
        if self.graphed_loss is not None and self.trainer.accumulate_grad_batches > 1:
            raise ConfigError(
                "model.cuda_graphs replays each step's gradients in the same memory, so they cannot be accumulated "
                f"over batches: set trainer.accumulate_grad_batches=1 (got {self.trainer.accumulate_grad_batches}) "
                "or model.cuda_graphs=false"
            )

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        blur, sharp = (in_layout(batch[key], self.channels_last) for key in ("blur", "sharp"))
        loss = (self.graphed_loss or self.loss_of)(blur, sharp)
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["blur"].shape[0])
        return loss

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Clip the recurrent module's gradients alone (paper Sec. 4; off in the official code)."""
        if self.settings["recurrent_grad_clip"]:
            params = [p for m in self.net.bottlenecks for p in m.parameters()]
            norm = torch.nn.utils.clip_grad_norm_(params, self.settings["recurrent_grad_clip"])
            self.log("train/recurrent_grad_norm", norm)

    def _score(
        self, batch: dict[str, Tensor], scores: ImageScores, blur_scores: ImageScores
    ) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]:
        """The 8-bit output, and the per-image scores of output and blurry input, added to the running means."""
        output = quantize(self(batch["blur"]))
        out_scores = score_images(output, batch["sharp"], self.metric_names, self.crop_border)
        in_scores = score_images(batch["blur"], batch["sharp"], self.metric_names, self.crop_border)
        scores.add(out_scores)
        blur_scores.add(in_scores)
        return output, out_scores, in_scores

    @staticmethod
    def _means(prefix: str, scores: ImageScores, blur_scores: ImageScores) -> dict[str, Tensor]:
        """`<prefix>/<metric>` for each metric (psnr, ssim, ...) and their `blur_` twins, then both reset."""
        means = {
            **{f"{prefix}/{k}": v for k, v in scores.compute().items()},
            **{f"{prefix}/blur_{k}": v for k, v in blur_scores.compute().items()},
        }
        scores.reset()
        blur_scores.reset()
        return means

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        """Returns the 8-bit output for callbacks (srnlab.lit.images.ValidationGrids)."""
        output, _, _ = self._score(batch, self.val_scores, self.val_blur_scores)
        return {"output": output}

    def on_validation_epoch_end(self) -> None:
        self.log_dict(self._means("val", self.val_scores, self.val_blur_scores), sync_dist=False)

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        _, out_scores, in_scores = self._score(batch, self.test_scores, self.test_blur_scores)
        for i, name in enumerate(batch["name"]):
            record = {"name": name, **{k: float(v[i]) for k, v in out_scores.items()}}
            self.test_records.append(record | {f"blur_{k}": float(v[i]) for k, v in in_scores.items()})

    def on_test_epoch_start(self) -> None:
        self.test_records.clear()

    def on_test_epoch_end(self) -> None:
        self.log_dict(self._means("test", self.test_scores, self.test_blur_scores))
        self.test_records = _gather_records(self.test_records)

    def configure_optimizers(self) -> dict[str, Any]:
        """`model.optimizer` and `model.scheduler` are `_partial_` configs: the optimizer gets the parameters,
        the schedule (a per-step multiplier) the number of steps this trainer will take."""
        optimizer = instantiate(self.settings["optimizer"])(self.net.parameters())
        steps = max(1, int(self.trainer.estimated_stepping_batches))
        multiplier = instantiate(self.settings["scheduler"])(max_steps=steps)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    @classmethod
    def load_from_checkpoint(  # type: ignore[override]
        cls,
        checkpoint_path: str | Path,
        map_location: Any = None,
        hparams_file: str | Path | None = None,
        strict: bool | None = None,
        weights_only: bool = True,
        **kwargs: Any,
    ) -> DeblurModule:
        """Lightning's loader, weights-only unless `weights_only=False` is passed (Lightning leaves the choice
        to torch's default, which an environment variable can switch off): a checkpoint is data. A file that
        names code to run is refused with `UntrustedCheckpoint`, naming the file and the globals."""
        try:
            return super().load_from_checkpoint(
                checkpoint_path, map_location, hparams_file, strict, weights_only=weights_only, **kwargs
            )
        except pickle.UnpicklingError as error:
            refusal = untrusted(Path(checkpoint_path), error) if weights_only else None
            if refusal:
                raise refusal from None
            raise


def load_module(
    path: str | Path, map_location: str | torch.device = "cpu", *, trust: bool = False, **hparams: Any
) -> DeblurModule:
    """A DeblurModule from a training checkpoint or a safetensors weights file, in fp32 and eval mode; a .ckpt
    is read weights-only unless `trust` is set. `hparams` override saved ones that only steer inference
    (channels_last, compile, self_ensemble, metrics, crop_border). To deblur alone,
    `srnlab.infer.deblurrer.Deblurrer.load` is the lighter way."""
    path = Path(path)
    if path.suffix != WEIGHTS_SUFFIX:
        return DeblurModule.load_from_checkpoint(
            path, map_location=map_location, weights_only=not trust, **hparams
        ).eval()
    saved, state = read_network(path)
    module = DeblurModule({"net": saved["net"]}, saved.get("variant"), **hparams)
    check_tensors_fit(path, state, module.net.state_dict())
    module.net.load_state_dict(state)
    return module.to(map_location).eval()


def _gather_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every process's per-image records, in name order (DDP shards the test set)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        shards: list[list[dict[str, Any]]] = [[] for _ in range(torch.distributed.get_world_size())]
        torch.distributed.all_gather_object(shards, records)
        records = [r for shard in shards for r in shard]
    unique = {r["name"]: r for r in records}  # DistributedSampler pads with repeats
    return [unique[name] for name in sorted(unique)]
