"""The GPU training step, prepared on the CPU: the compiled, graph-replayed step (model.cuda_graphs,
srnlab.lit.graphed_step) and the batches cut where the network trains (data.on_device,
srnlab.data.device_batches)."""

from __future__ import annotations

import copy
from collections import Counter

import cv2
import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from srnlab.config import TABLE1_IDS, compose_config, experiment_path
from srnlab.data.device_batches import DeviceBatches
from srnlab.data.pairs import FolderPairs
from srnlab.errors import ConfigError
from srnlab.lit.graphed_step import GraphedLoss
from srnlab.lit.losses import multiscale_mse
from srnlab.lit.module import DeblurModule


@pytest.fixture
def cheap_compile(monkeypatch) -> Counter:
    """Compile as reduce-overhead does (Dynamo + AOTAutograd) without Inductor's C++ build, and count the steps
    marked as new: CUDA graphs themselves need a GPU (`make gpu-check`)."""
    marks: Counter = Counter()
    monkeypatch.setattr(GraphedLoss, "compile_options", {"backend": "aot_eager", "dynamic": False})
    monkeypatch.setattr(torch.compiler, "cudagraph_mark_step_begin", lambda: marks.update(["step"]))
    return marks


def test_graphed_loss_compiles_for_reduce_overhead_with_static_shapes() -> None:
    assert GraphedLoss.compile_options == {"mode": "reduce-overhead", "dynamic": False}


# both kinds of body in the default run; every Table 1 variant (each bottleneck, SC's unshared copies) in the slow one
COMPOSITION = ("sr_edrb3", "sr_flat")
VARIANTS = [v if v in COMPOSITION else pytest.param(v, marks=pytest.mark.slow) for v in TABLE1_IDS]


@pytest.mark.parametrize("experiment", VARIANTS)
def test_graphed_loss_and_gradients_equal_the_eager_ones(experiment: str, cheap_compile: Counter) -> None:
    cfg = compose_config("train", [f"experiment={experiment_path(experiment)}", "model.net.width_mult=0.125"])
    torch.manual_seed(0)
    net = instantiate(cfg.model.net)
    twin = copy.deepcopy(net)
    blur, sharp = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    graphed = GraphedLoss(lambda b, s: multiscale_mse(twin(b), s))
    for step in range(2):  # the second call replays what the first compiled
        eager_loss, graphed_loss = multiscale_mse(net(blur), sharp), graphed(blur, sharp)
        eager_loss.backward()
        graphed_loss.backward()
        torch.testing.assert_close(graphed_loss, eager_loss, rtol=1e-5, atol=1e-7)
        for (name, p), q in zip(net.named_parameters(), twin.parameters(), strict=True):
            torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-7, msg=name)
        assert cheap_compile["step"] == step + 1


def test_cuda_graphs_and_compile_together_are_refused() -> None:
    cfg = compose_config("train", ["profile=smoke", "model.cuda_graphs=true", "model.compile=true"])
    with pytest.raises(ConfigError, match=r"model\.compile=false"):
        DeblurModule.from_config(cfg).configure_model()


def write_pairs(root, sizes: list[tuple[int, int]], bits: int = 8) -> FolderPairs:
    """Pairs whose pixels name their own position: blur = (x, y, pair index) in 8 bits, sharp = 255 - blur.
    A crop then shows where it was cut, and whether blur and sharp were cut and turned alike."""
    for i, (h, w) in enumerate(sizes):
        y, x = np.mgrid[:h, :w]
        blur = np.stack([x % 256, y % 256, np.full_like(x, 40 * i)], axis=-1).astype(np.uint8)
        for folder, image in (("blur", blur), ("sharp", 255 - blur)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            out = image.astype(np.uint16) * 256 + 7 if bits == 16 else image  # 16-bit values no byte holds
            cv2.imwrite(str(root / folder / f"p{i}.png"), out[..., ::-1])
    return FolderPairs(root=root, split="train", blur="blur", sharp="sharp")


def source_window(crop: torch.Tensor, images: list[torch.Tensor]) -> torch.Tensor:
    """The window of the stored image a crop (3 x c x c, in [0, 1]) was cut from, turned as the crop is."""
    values = (crop * 255).round().long()
    pair = int(values[2, 0, 0]) // 40
    for turns in range(4):
        for dims in ([], [-1], [-2], [-1, -2]):
            undone = (
                torch.rot90(values, -turns, dims=(-2, -1)).flip(dims) if dims else torch.rot90(values, -turns, (-2, -1))
            )
            left, top = int(undone[0, 0, 0]), int(undone[1, 0, 0])
            c = crop.shape[-1]
            window = images[pair][:, top : top + c, left : left + c].long()
            if window.shape == undone.shape and torch.equal(window, undone):
                return window
    raise AssertionError("the crop is no window of any stored image")


def test_device_batches_are_aligned_windows_of_the_pairs(tmp_path) -> None:
    pairs = write_pairs(tmp_path, [(40, 48), (44, 40), (40, 40)])
    batches = DeviceBatches(pairs, torch.device("cpu"), 2, 16, hflip=True, vflip=True, rot90=True, repeats=2, seed=3)
    assert all(t.dtype == torch.uint8 for pair in batches.images for t in pair)  # 8-bit sets stay 8-bit
    stored = [blur for blur, _ in batches.images]
    epoch = list(batches)
    assert len(epoch) == len(batches) == 3  # 3 pairs x 2 repeats, batches of 2
    seen = Counter()
    for batch in epoch:
        assert batch["blur"].shape == batch["sharp"].shape == (2, 3, 16, 16)
        assert batch["blur"].dtype == torch.float32 and batch["blur"].min() >= 0 and batch["blur"].max() <= 1
        torch.testing.assert_close(batch["sharp"], 1 - batch["blur"], atol=1e-6, rtol=0)  # cut and turned alike
        for crop in batch["blur"]:
            source_window(crop, stored)
            seen[int((crop[2, 0, 0] * 255).round()) // 40] += 1
    assert seen == {0: 2, 1: 2, 2: 2}  # each pair `repeats` times per epoch, as the DataLoader's pass


def test_device_batches_follow_seed_and_epoch_and_split_across_processes(tmp_path) -> None:
    pairs = write_pairs(tmp_path, [(24, 24)] * 4)
    make = lambda **kw: DeviceBatches(pairs, torch.device("cpu"), 2, 8, seed=1, **kw)  # noqa: E731
    first, again = make(), make()
    epoch_0, epoch_1 = list(first), list(first)
    assert all(torch.equal(a["blur"], b["blur"]) for a, b in zip(epoch_0, list(again), strict=True))
    assert not all(torch.equal(a["blur"], b["blur"]) for a, b in zip(epoch_0, epoch_1, strict=True))
    resumed = make()
    resumed.epoch = 1  # what the DataModule sets from the trainer after a resume
    assert all(torch.equal(a["blur"], b["blur"]) for a, b in zip(epoch_1, list(resumed), strict=True))
    ranks = [make(rank=r, world_size=2) for r in range(2)]
    assert [len(r) for r in ranks] == [1, 1]
    pairs_of = lambda r: sorted(int((b["blur"][i, 2, 0, 0] * 255).round()) // 40 for b in r for i in range(2))  # noqa: E731
    assert sorted(pairs_of(ranks[0]) + pairs_of(ranks[1])) == [0, 1, 2, 3]


def test_device_batches_keep_16_bit_pairs_exact_and_pad_small_ones(tmp_path) -> None:
    pairs = write_pairs(tmp_path, [(12, 20)], bits=16)
    batches = DeviceBatches(pairs, torch.device("cpu"), 4, 16)
    blur, sharp = batches.images[0]
    assert blur.dtype == sharp.dtype == torch.float32  # 8 bits would round them
    torch.testing.assert_close(blur[:, 2:14], pairs[0]["blur"], rtol=0, atol=0)
    assert blur.shape == (3, 16, 20)  # padded by reflection to the crop, as the DataLoader's transform pads
    batch = next(iter(batches))
    assert batch["blur"].shape == (1, 3, 16, 16)  # a set smaller than one batch gives one smaller batch


def test_bad_on_device_value_names_the_option(tmp_path) -> None:
    from srnlab.data.datamodule import DeblurDataModule

    with pytest.raises(ConfigError, match=r"data\.on_device"):
        DeblurDataModule(root=tmp_path, on_device="gpu")
