"""The official release: configs that pair one to one with its checkpoints' variables, the TF1 checkpoint reader
and importer (no TensorFlow), and the TF-exact numerics switches."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cli import assert_one_line_error, run
from hydra.utils import instantiate
from tf_bundle import write_bundle

from srnlab.config import compose_config
from srnlab.lit.module import load_module
from srnlab.models.blocks import conv
from srnlab.models.measure import count_parameters
from srnlab.models.resize import resize
from srnlab.release.crc32c import crc32c
from srnlab.release.importer import import_release
from srnlab.release.mapping import tf_names, torch_shape
from srnlab.release.tf_checkpoint import TFCheckpoint
from srnlab.runs.checkpoints import CheckpointError

TOTALS = {"color": 6_881_251, "gray": 6_876_449, "lstm": 8_056_609}  # reference/official_srn/README.md
SMALL = ["data.synthesize.n_train=4", "data.synthesize.n_test=2", "data.synthesize.size=[64,64]"]


@pytest.fixture(scope="module")
def reference() -> Path:
    """The official release's .index files (../shared/reference/official_srn, or $SRN_REFERENCE)."""
    default = Path(__file__).resolve().parents[2] / "shared" / "reference" / "official_srn"
    root = Path(os.environ.get("SRN_REFERENCE", default))
    if not root.is_dir():
        pytest.skip(f"official release index files not found at {root} (set SRN_REFERENCE to their folder)")
    return root


def index_prefix(reference: Path, model: str) -> Path:
    return reference / model / "deblur.model-523000"


def release_net(model: str) -> torch.nn.Module:
    return instantiate(compose_config("train", [f"experiment=release/{model}"]).model.net)


def listing(reference: Path, model: str) -> dict[str, tuple]:
    """variables.txt, the plain listing that ships next to each .index: name -> (dtype, shape, offset, size)."""
    rows = {}
    for line in (reference / model / "variables.txt").read_text().splitlines():
        if line.startswith("g_net/"):
            name, dtype, rest = line.split(maxsplit=2)
            shape, place = rest.split(")", 1)
            fields = dict(item.split("=") for item in place.split())
            dims = tuple(int(d) for d in shape.strip("( ").split(",") if d.strip())
            rows[name] = (dtype, dims, int(fields["off"]), int(fields["size"]))
    return rows


@pytest.mark.parametrize("model", list(TOTALS))
def test_our_reader_reads_each_real_index_as_its_listing_says(reference, model) -> None:
    entries = TFCheckpoint(index_prefix(reference, model)).entries
    ours = {e.name: (e.dtype.name, e.shape, e.offset, e.size) for e in entries.values()}
    assert ours == listing(reference, model)
    assert all(e.crc32c is not None for e in entries.values())
    assert sum(e.n_elements for e in entries.values()) == TOTALS[model]


@pytest.mark.parametrize("model", list(TOTALS))
def test_each_release_config_pairs_one_to_one_with_its_checkpoint(reference, model) -> None:
    net = release_net(model)
    entries = TFCheckpoint(index_prefix(reference, model)).entries
    names = tf_names(net)
    assert sorted(names.values()) == sorted(entries), "every official variable has exactly one counterpart"
    assert sorted(names) == sorted(net.state_dict()), "every parameter of ours has exactly one official variable"
    state = net.state_dict()
    assert all(torch_shape(entries[tf].shape) == tuple(state[k].shape) for k, tf in names.items())
    assert count_parameters(net) == TOTALS[model]
    assert compose_config("train", [f"experiment=release/{model}"]).variant.release.params == TOTALS[model]


def synthetic_shard(reference: Path, model: str, folder: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Random values at the offsets the real index records, with an index of their own checksums."""
    entries = TFCheckpoint(index_prefix(reference, model)).entries
    rng = np.random.default_rng(sum(map(ord, model)))
    values = {name: (0.01 * rng.standard_normal(e.shape)).astype("<f4") for name, e in entries.items()}
    prefix = folder / model / "deblur.model-523000"
    prefix.parent.mkdir(parents=True)
    write_bundle(prefix, values, {name: e.offset for name, e in entries.items()})
    assert prefix.with_name(prefix.name + ".data-00000-of-00001").stat().st_size == max(
        e.offset + e.size for e in entries.values()
    )
    return prefix, values


def expected_torch_value(tf_value: np.ndarray, tf_name: str) -> np.ndarray:
    """Written out by hand: conv kernels (kh, kw, a, b) -> (b, a, kh, kw); LSTM gates i, j, f, o -> i, f, o, j."""
    value = tf_value.transpose(3, 2, 0, 1) if tf_value.ndim == 4 else tf_value
    if "convLSTM" in tf_name:
        n = value.shape[0] // 4
        i, j, f, o = (value[k * n : (k + 1) * n] for k in range(4))
        value = np.concatenate([i, f, o, j])
    return value


@pytest.mark.parametrize("model", list(TOTALS))
def test_import_puts_every_tensor_in_its_parameter(reference, model, tmp_path, caplog) -> None:
    prefix, values = synthetic_shard(reference, model, tmp_path)
    with caplog.at_level(logging.WARNING):
        module = import_release(prefix, model)
    blob = compose_config("train", [f"experiment=release/{model}"]).variant.release.shard_git_blob
    assert blob in caplog.text and "not the official" in caplog.text, "a foreign shard is warned about by blob id"
    state = module.net.state_dict()
    for key, tf_name in tf_names(module.net).items():
        np.testing.assert_array_equal(state[key].numpy(), expected_torch_value(values[tf_name], tf_name), err_msg=key)


def test_imported_checkpoint_deblurs_and_scores_like_any_other(reference, tmp_path, smoke_checkpoint) -> None:
    prefix, _ = synthetic_shard(reference, "color", tmp_path)
    ckpt, weights = tmp_path / "color.ckpt", tmp_path / "color.safetensors"
    for out in (ckpt, weights):
        proc = run("srnlab.cli.import_tf", str(prefix), "--model", "color", "--out", str(out))
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "6,881,251 parameters" in proc.stdout
    x = torch.rand(1, 3, 40, 56)
    with torch.inference_mode():
        a, b = load_module(ckpt)(x), load_module(weights)(x)
    torch.testing.assert_close(a, b)
    data_root = smoke_checkpoint.parents[2] / "data"
    proc = run("srnlab.cli.evaluate", "profile=smoke", "experiment=release/color", f"ckpt_path={ckpt}",
               f"data.root={data_root}", *SMALL, f"hydra.run.dir={tmp_path / 'eval'}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "psnr" in proc.stdout.lower()


def test_a_truncated_shard_names_the_file(reference, tmp_path) -> None:
    prefix, _ = synthetic_shard(reference, "gray", tmp_path)
    shard = prefix.with_name(prefix.name + ".data-00000-of-00001")
    shard.write_bytes(shard.read_bytes()[:-1000])
    with pytest.raises(CheckpointError, match=rf"{re.escape(str(shard))} is truncated: .* Copy the shard again"):
        import_release(prefix, "gray")


def test_a_damaged_byte_fails_its_checksum(reference, tmp_path) -> None:
    prefix, _ = synthetic_shard(reference, "gray", tmp_path)
    shard = prefix.with_name(prefix.name + ".data-00000-of-00001")
    data = bytearray(shard.read_bytes())
    data[100] ^= 0x01
    shard.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=rf"{re.escape(str(shard))}: the bytes of g_net/.* fail their checksum"):
        import_release(prefix, "gray")


def test_a_wrong_model_names_the_file_and_the_right_one(reference, tmp_path) -> None:
    prefix, _ = synthetic_shard(reference, "gray", tmp_path)
    with pytest.raises(CheckpointError, match=r"missing g_net/convLSTM/LSTM_conv/biases.*pass --model gray"):
        import_release(prefix, "lstm")
    proc = run("srnlab.cli.import_tf", str(prefix), "--model", "color", "--out", str(tmp_path / "x.ckpt"))
    assert_one_line_error(proc, "srn-import-tf", f"{prefix}.index does not hold the 'color' model",
                          "g_net/enc1_1/weights is (5, 5, 2, 32)", "pass --model gray")  # fmt: skip
    assert not (tmp_path / "x.ckpt").exists()


def test_a_missing_checkpoint_names_the_file(tmp_path) -> None:
    proc = run("srnlab.cli.import_tf", str(tmp_path / "nope"), "--model", "color", "--out", str(tmp_path / "x.ckpt"))
    assert_one_line_error(proc, "srn-import-tf", f"index not found: {tmp_path / 'nope'}.index")


def test_crc32c_matches_the_bitwise_definition() -> None:
    def bitwise(data: bytes) -> int:
        crc = 0xFFFFFFFF
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        return crc ^ 0xFFFFFFFF

    assert crc32c(b"123456789") == 0xE3069283  # the standard check value
    rng = np.random.default_rng(0)
    for n in (0, 1, 4095, 4096, 4097, 12_345):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc32c(data) == bitwise(data), n


def test_tf1_halving_keeps_every_other_pixel_and_doubling_averages_neighbours() -> None:
    x = torch.rand(2, 3, 8, 10)
    assert torch.equal(resize(x, (4, 5), "tf1"), x[..., ::2, ::2])
    up = resize(x, (16, 20), "tf1")
    assert torch.equal(up[..., ::2, ::2], x)
    torch.testing.assert_close(up[..., 1:-1:2, ::2], (x[..., :-1, :] + x[..., 1:, :]) / 2)
    torch.testing.assert_close(up[..., ::2, 1:-1:2], (x[..., :-1] + x[..., 1:]) / 2)
    assert torch.equal(up[..., -1, ::2], x[..., -1, :]), "the last odd row repeats the border"
    assert not torch.allclose(resize(x, (4, 5), "torch"), x[..., ::2, ::2]), "PyTorch's convention differs"


@pytest.mark.parametrize(("k", "before", "after"), [(5, 1, 2), (3, 0, 1)])
def test_tf_same_pads_the_odd_pixel_after_on_strided_convolutions(k, before, after) -> None:
    torch.manual_seed(0)
    layer = conv(2, 4, k, stride=2, padding="tf_same")
    x = torch.rand(1, 2, 12, 16)
    hand = F.conv2d(F.pad(x, (before, after, before, after)), layer.weight, layer.bias, stride=2)
    torch.testing.assert_close(layer(x), hand)


def test_tf_same_windows_by_hand() -> None:
    ones = conv(1, 1, 3, stride=2, padding="tf_same")
    torch.nn.init.ones_(ones.weight)
    torch.nn.init.zeros_(ones.bias)
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    with torch.no_grad():
        out = ones(image)[0, 0]
    assert out[0, 0] == image[0, 0, :3, :3].sum() == 45, "nothing padded before: the first window starts at (0, 0)"
    assert out[1, 1] == image[0, 0, 2:, 2:].sum() == 50, "one zero row and column after"
    symmetric = conv(1, 1, 3, stride=2)
    assert symmetric.padding == (1, 1), "PyTorch's default pads one pixel on both sides instead"


def test_gray_models_deblur_r_g_b_as_a_batch_of_three(tmp_path) -> None:
    net = release_net("gray").eval()
    x = torch.rand(2, 3, 32, 48)
    with torch.inference_mode():
        together = net(x)[-1]
        apart = torch.cat([net._forward(x[:, c : c + 1])[-1] for c in range(3)], dim=1)
    torch.testing.assert_close(together, apart)


def test_the_whole_input_is_edge_padded_to_a_multiple_of_16_and_cropped_back() -> None:
    net = release_net("color").eval()
    x = torch.rand(1, 3, 37, 50)
    padded = F.pad(x, (0, 14, 0, 11), mode="replicate")
    with torch.inference_mode():
        out, reference = net(x)[-1], net(padded)[-1]
    assert out.shape == x.shape
    torch.testing.assert_close(out, reference[..., :37, :50])


def test_a_checkpoint_from_before_the_switches_still_holds_its_variant(tmp_path: Path) -> None:
    """A weights file written before the numerics switches existed names none of them: it was built with
    their defaults, so it matches a config that leaves them at the defaults, and no other."""
    import json

    from omegaconf import OmegaConf
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from srnlab.runs.checkpoints import check_variant, read_hparams
    from srnlab.runs.weights import PRETRAINED

    with safe_open(PRETRAINED, framework="pt") as f:
        metadata = f.metadata()
    tensors = load_file(PRETRAINED)
    switches = ("resize", "padding", "input_multiple", "channels_as_batch")
    metadata["net"] = json.dumps({k: v for k, v in json.loads(metadata["net"]).items() if k not in switches})
    old = tmp_path / "before_the_switches.safetensors"
    save_file(tensors, str(old), metadata=metadata)

    assert not set(switches) & set(read_hparams(old)["net"])
    expected = OmegaConf.to_container(compose_config("eval", ["experiment=pretrained"]).model.net, resolve=True)
    assert check_variant(old, expected)["variant"]["id"] == "sr_edrb3"
    with pytest.raises(CheckpointError, match=re.escape("model.net.resize: checkpoint 'torch' vs config 'tf1'")):
        check_variant(old, {**expected, "resize": "tf1"})
