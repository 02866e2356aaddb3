"""Datasets: toy mixtures, bundled image sets, Fashion-MNIST/IDX, folders, specs, sampler."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ganforge.data import BatchSampler, Dataset, describe_datasets, load_dataset
from ganforge.errors import DataError
from ganforge.modalities.image import datasets as images_mod
from ganforge.modalities.image.datasets import (
    FASHION_MNIST_DIR,
    convert_channels,
    load_digits_dataset,
    load_fashion_mnist,
    load_folder,
    load_mnist5k,
    resize_images,
)
from ganforge.modalities.image.idx import read_idx
from ganforge.modalities.points.datasets import grid25, grid25_centers, ring8, ring8_centers

# --------------------------------------------------------------------------- toy mixtures


def _nearest(data: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    return torch.cdist(data.double(), centers.double()).argmin(1)


@pytest.mark.parametrize(
    "make, centers, std",
    [(ring8, ring8_centers(2.0), 0.02), (grid25, grid25_centers(2.0), 0.05)],
)
def test_toy_shapes_and_statistics(make, centers, std):
    ds = make(n=20_000, seed=3)
    assert isinstance(ds, Dataset)
    assert ds.modality == "points" and ds.labels is None
    assert ds.data.shape == (20_000, 2) and ds.data.dtype == torch.float32
    assert torch.allclose(torch.tensor(ds.info["centers"]), centers)
    assert ds.info["std"] == std
    k = len(centers)
    mode = _nearest(ds.data, centers)
    freq = torch.bincount(mode, minlength=k).double() / len(ds)
    assert (freq - 1 / k).abs().max() < 0.015  # modes picked uniformly
    for j in range(k):
        pts = ds.data[mode == j].double()
        assert (pts.mean(0) - centers[j]).abs().max() < 0.1 * std  # SE ~ std / 28
        assert abs(pts.std(0).mean().item() / std - 1) < 0.1


def test_toy_determinism_and_parameters():
    a, b, c = ring8(n=500, seed=7), ring8(n=500, seed=7), ring8(n=500, seed=8)
    assert torch.equal(a.data, b.data)
    assert not torch.equal(a.data, c.data)
    assert torch.equal(grid25(n=300, seed=1).data, grid25(n=300, seed=1).data)
    small = ring8(n=100, seed=0, radius=1.0, std=0.1)
    assert small.info["std"] == 0.1
    assert torch.allclose(torch.tensor(small.info["centers"]).norm(dim=1), torch.ones(8))
    assert len(ring8(seed=0)) == 50_000


def test_toy_centers():
    ring = ring8_centers(2.0)
    assert ring.shape == (8, 2)
    assert torch.allclose(ring.norm(dim=1), torch.full((8,), 2.0))
    assert torch.allclose(ring[0], torch.tensor([2.0, 0.0]))
    grid = grid25_centers(2.0)
    assert grid.shape == (25, 2)
    assert len({tuple(p) for p in grid.tolist()}) == 25
    assert sorted(set(grid[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert torch.allclose(grid.mean(0), torch.zeros(2))
    with pytest.raises(DataError):
        ring8(n=0, seed=0)


# --------------------------------------------------------------------------- bundled image sets


@pytest.fixture(scope="module")
def mnist5k() -> Dataset:
    return load_mnist5k()


def test_digits():
    ds = load_digits_dataset()
    assert ds.modality == "image"
    assert ds.data.shape == (1797, 1, 8, 8) and ds.data.dtype == torch.uint8
    assert int(ds.data.max()) == 255 and int(ds.data.min()) == 0
    assert ds.labels.dtype == torch.int64 and ds.num_classes == 10 and ds.conditional
    counts = torch.bincount(ds.labels, minlength=10)
    assert counts.sum() == 1797 and counts.min() >= 170


def test_mnist5k(mnist5k):
    ds = mnist5k
    assert ds.data.shape == (5000, 1, 28, 28) and ds.data.dtype == torch.uint8
    assert int(ds.data.max()) == 255 and int(ds.data.min()) == 0
    assert torch.equal(torch.bincount(ds.labels, minlength=10), torch.full((10,), 500))
    assert ds.class_names == [str(i) for i in range(10)]
    x, y = ds.batch(torch.arange(4))
    assert x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1 and y.shape == (4,)


def test_resize_images(mnist5k):
    small = mnist5k.data[:64]
    big = resize_images(small, 32)
    assert big.shape == (64, 1, 32, 32) and big.dtype == torch.uint8
    # the mean brightness survives resizing
    assert abs(big.float().mean().item() - small.float().mean().item()) < 2.0
    assert resize_images(small, 28) is small
    flat = torch.full((2, 3, 10, 10), 77, dtype=torch.uint8)
    assert torch.equal(resize_images(flat, 7), torch.full((2, 3, 7, 7), 77, dtype=torch.uint8))


def test_convert_channels():
    grey = torch.randint(0, 256, (2, 1, 4, 4), dtype=torch.uint8)
    rgb = convert_channels(grey, 3)
    assert rgb.shape == (2, 3, 4, 4)
    assert torch.equal(rgb[:, 0], grey[:, 0]) and torch.equal(rgb[:, 2], grey[:, 0])
    red = torch.zeros(1, 3, 2, 2, dtype=torch.uint8)
    red[:, 0] = 255
    assert torch.equal(convert_channels(red, 1), torch.full((1, 1, 2, 2), 76, dtype=torch.uint8))
    assert convert_channels(grey, 1) is grey
    with pytest.raises(DataError):
        convert_channels(grey, 4)


def test_load_dataset_adapts_images():
    ds = load_dataset("digits", image_size=16, channels=3)
    assert ds.data.shape == (1797, 3, 16, 16) and ds.data.dtype == torch.uint8
    assert torch.equal(ds.data[:, 0], ds.data[:, 1])
    assert ds.labels is not None and ds.num_classes == 10


# --------------------------------------------------------------------------- IDX / Fashion-MNIST


def _idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.tobytes()


def _write_fashion(root: Path, n_train: int = 6, n_test: int = 3, gz: bool = True) -> None:
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        img = rng.integers(0, 256, (n, 4, 4), dtype=np.uint8)
        lab = (np.arange(n) % 10).astype(np.uint8)
        for kind, arr in (("images-idx3", img), ("labels-idx1", lab)):
            raw = _idx_bytes(arr)
            if gz:
                (root / f"{prefix}-{kind}-ubyte.gz").write_bytes(gzip.compress(raw))
            else:  # the dotted spelling of the original MNIST site
                (root / f"{prefix}-{kind.replace('-', '.')}-ubyte").write_bytes(raw)


def test_idx_reader_raw_gz_and_types(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a-ubyte").write_bytes(_idx_bytes(arr))
    (tmp_path / "a-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(arr)))
    for name in ("a-ubyte", "a-ubyte.gz"):
        out = read_idx(tmp_path / name)
        assert out.dtype == np.uint8 and np.array_equal(out, arr)
    ints = np.array([1, -2, 300_000], dtype=">i4")
    (tmp_path / "i").write_bytes(_idx_bytes(ints, code=0x0C))
    assert read_idx(tmp_path / "i").tolist() == [1, -2, 300_000]


@pytest.mark.parametrize(
    "raw",
    [
        b"\x08\x03\x00\x00" + b"\x00" * 12,  # bad magic
        _idx_bytes(np.zeros((2, 2), np.uint8))[:-1],  # data cut short
        bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]),  # unknown type code
        b"\x00\x00\x08\x03\x00",  # header cut short
        b"\x1f\x8b" + b"garbage" * 5,  # broken gzip
    ],
)
def test_idx_reader_rejects_corrupt_files(tmp_path, raw):
    (tmp_path / "bad").write_bytes(raw)
    with pytest.raises(DataError, match="bad"):
        read_idx(tmp_path / "bad")


def test_fashion_from_directory(tmp_path):
    _write_fashion(tmp_path)
    sub = tmp_path / "nested" / "raw"
    sub.mkdir(parents=True)
    _write_fashion(sub, n_train=5, n_test=2, gz=False)
    train = load_fashion_mnist(tmp_path)  # top-level files win over subfolders
    assert train.data.shape == (6, 1, 4, 4) and train.data.dtype == torch.uint8
    assert train.labels.tolist() == [0, 1, 2, 3, 4, 5] and train.num_classes == 10
    assert train.class_names[0] == "T-shirt/top" and train.class_names[9] == "Ankle boot"
    assert len(load_fashion_mnist(tmp_path, split="test")) == 3
    assert len(load_fashion_mnist(tmp_path, split="all")) == 9
    assert len(load_fashion_mnist(tmp_path / "nested", split="all")) == 7  # raw, in a subfolder
    ds = load_dataset(f"fashion-mnist:{tmp_path}", image_size=8, channels=3)
    assert ds.data.shape == (6, 3, 8, 8)
    with pytest.raises(DataError, match="split"):
        load_fashion_mnist(tmp_path, split="val")


def test_fashion_errors(tmp_path):
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path / "missing")
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_fashion_mnist(tmp_path)  # exists but empty
    _write_fashion(tmp_path)
    labels = _idx_bytes(np.zeros(5, np.uint8))  # 5 labels for 6 images
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    with pytest.raises(DataError, match="do not match"):
        load_fashion_mnist(tmp_path)


def test_fashion_mnist_installed():
    if not Path(FASHION_MNIST_DIR).is_dir():
        pytest.skip(f"Fashion-MNIST not installed in {FASHION_MNIST_DIR}")
    ds = load_fashion_mnist(split="test")
    assert ds.data.shape == (10_000, 1, 28, 28) and ds.data.dtype == torch.uint8
    assert torch.equal(torch.bincount(ds.labels, minlength=10), torch.full((10,), 1000))
    assert 0 < ds.data.float().mean() < 255


# --------------------------------------------------------------------------- folders


def _jpeg_bytes(img: Image.Image, **kw) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


@pytest.fixture
def picture_folder(tmp_path) -> Path:
    root = tmp_path / "pics"
    (root / "sub").mkdir(parents=True)
    Image.new("RGB", (20, 12), (200, 10, 10)).save(root / "rgb.png")
    Image.new("RGBA", (16, 16), (255, 0, 0, 0)).save(root / "rgba.png")  # fully transparent
    pal = Image.new("P", (16, 16), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.paste(1, (0, 0, 8, 16))  # left half red (index 1), right half index 0 = transparent
    pal.save(root / "palette.png", transparency=0)
    Image.new("L", (16, 16), 100).save(root / "grey.jpg", quality=95)
    Image.fromarray(np.full((16, 16), 128 * 257, np.uint16)).save(root / "sixteen.png")
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(root / "cmyk.jpg", quality=95)  # red
    # 40 wide x 20 high, left half black; EXIF orientation 6 = rotate 90 degrees clockwise
    # to display, so the displayed picture is 20 x 40 with its top half black.
    side = Image.new("L", (40, 20), 255)
    side.paste(0, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    (root / "exif.jpg").write_bytes(_jpeg_bytes(side, exif=exif, quality=95))
    Image.new("RGB", (8, 8), (0, 0, 255)).save(root / "sub" / "extra.png")
    (root / "empty.png").write_bytes(b"")
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8))
    full = _jpeg_bytes(noise)
    (root / "truncated.jpg").write_bytes(full[: len(full) // 2])
    (root / "notimage.jpg").write_text("this is not a picture\n")
    (root / "notes.txt").write_text("ignored: not a picture extension\n")
    Image.new("RGB", (8, 8)).save(root / ".hidden.png")  # hidden: ignored
    return root


def test_folder_loader(picture_folder):
    ds = load_folder(picture_folder, image_size=16, channels=3)
    assert ds.modality == "image" and ds.labels is None and ds.num_classes == 0
    files = ds.info["files"]
    assert files == sorted(files)
    assert set(files) == {
        "rgb.png",
        "rgba.png",
        "palette.png",
        "grey.jpg",
        "sixteen.png",
        "cmyk.jpg",
        "exif.jpg",
        "sub/extra.png",
    }
    assert ds.data.shape == (8, 3, 16, 16) and ds.data.dtype == torch.uint8
    assert sorted(s.split(":")[0] for s in ds.skipped) == [
        "empty.png",
        "notimage.jpg",
        "truncated.jpg",
    ]
    assert all(len(s.split(": ", 1)[1]) > 0 for s in ds.skipped)
    img = {name: ds.data[i].float() for i, name in enumerate(files)}

    assert torch.allclose(img["rgb.png"].mean((1, 2)), torch.tensor([200.0, 10, 10]), atol=2)
    assert img["rgba.png"].min() == 255  # transparency composited onto white
    pal = img["palette.png"]
    assert pal[0].min() == 255  # red everywhere: left half red, right half white
    assert pal[1, :, :7].max() == 0 and pal[1, :, 9:].min() == 255
    grey = img["grey.jpg"]
    assert torch.equal(grey[0], grey[1]) and abs(grey.mean().item() - 100) < 2
    assert abs(img["sixteen.png"].mean().item() - 128) < 1  # 16-bit scaled down to 8-bit
    cmyk = img["cmyk.jpg"].mean((1, 2))
    assert cmyk[0] > 230 and cmyk[1] < 25 and cmyk[2] < 25
    ex = img["exif.jpg"][0]
    assert ex[:5].mean() < 30 and ex[-5:].mean() > 225  # rotated: top dark, bottom light
    assert torch.allclose(img["sub/extra.png"].mean((1, 2)), torch.tensor([0.0, 0, 255]))

    grey_ds = load_folder(picture_folder, image_size=8, channels=1)
    assert grey_ds.data.shape == (8, 1, 8, 8)


def test_folder_resizes_and_crops(tmp_path):
    Image.new("RGB", (300, 200), (10, 200, 10)).save(tmp_path / "big.jpg", quality=90)
    wide = Image.new("L", (30, 10), 0)
    wide.paste(255, (10, 0, 20, 10))  # white middle third: the centre crop keeps only it
    wide.save(tmp_path / "wide.png")
    Image.new("L", (5, 4), 60).save(tmp_path / "tiny.bmp")
    frames = [Image.new("L", (10, 10), v) for v in (30, 220)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    Image.new("RGB", (12, 12), (90, 90, 90)).save(tmp_path / "pic.webp", lossless=True)
    ds = load_folder(tmp_path, image_size=10, channels=1)
    assert ds.data.shape == (5, 1, 10, 10) and ds.skipped == []
    by_name = dict(zip(ds.info["files"], ds.data, strict=True))
    assert abs(by_name["big.jpg"].float().mean().item() - 124) < 4  # green -> luminance
    assert by_name["wide.png"].min() == 255
    assert torch.all(by_name["tiny.bmp"] == 60)  # upscaled
    assert torch.all(by_name["anim.gif"] == 30)  # first frame
    assert torch.all(by_name["pic.webp"] == 90)


def test_folder_class_subfolders(tmp_path):
    for cls, n in (("dogs", 2), ("cats", 3)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            Image.new("RGB", (8, 8), (i, 0, 0)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG nope")
    ds = load_folder(tmp_path, image_size=8, channels=3)
    assert ds.class_names == ["cats", "dogs"] and ds.num_classes == 2 and ds.conditional
    assert ds.labels.tolist() == [0, 0, 0, 1, 1]
    assert ds.skipped and ds.skipped[0].startswith("dogs/broken.png: ")
    assert len(ds.labels) == len(ds.data)


def test_folder_layouts_without_labels(tmp_path):
    (tmp_path / "only").mkdir()
    for i in range(2):
        Image.new("L", (8, 8), i).save(tmp_path / "only" / f"{i}.png")
    ds = load_folder(tmp_path, image_size=8, channels=1)
    assert ds.labels is None and ds.class_names is None  # one subfolder is not a class layout


def test_folder_errors(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="not found"):
        load_folder(tmp_path / "missing", 16, 3)
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DataError, match="not a folder"):
        load_folder(tmp_path / "file.png", 16, 3)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no pictures here")
    with pytest.raises(DataError, match="no picture files"):
        load_folder(empty, 16, 3)
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("a.png", "b.jpg", "c.gif"):
        (bad / name).write_text("text")
    with pytest.raises(DataError, match="none of the 3 picture files"):
        load_folder(bad, 16, 3)
    with pytest.raises(DataError, match="channels"):
        load_folder(bad, 16, 2)
    monkeypatch.setattr(images_mod, "MAX_PIXELS", 100)
    big = tmp_path / "big"
    big.mkdir()
    Image.new("L", (20, 20)).save(big / "x.png")
    Image.new("L", (5, 5)).save(big / "y.png")
    ds = load_folder(big, 4, 1)
    assert len(ds) == 1 and ds.skipped[0].startswith("x.png: too large")


# --------------------------------------------------------------------------- specs


def test_load_dataset_specs(tmp_path):
    ring = load_dataset("toy:ring8", seed=5)
    assert ring.modality == "points" and len(ring) == 50_000
    assert torch.equal(ring.data[:10], ring8(seed=5).data[:10])
    assert len(load_dataset("toy:grid25").info["centers"]) == 25
    Image.new("RGB", (80, 70), (1, 2, 3)).save(tmp_path / "a.png")
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.data.shape == (1, 3, 64, 64)  # folder defaults: 64 px RGB
    assert load_dataset(f"folder:{tmp_path}", image_size=32, channels=1).data.shape == (
        1,
        1,
        32,
        32,
    )


@pytest.mark.parametrize(
    "spec, hint",
    [
        ("mnist", "mnist5k"),
        ("toy:ring", "toy:ring8"),
        ("fashion", "fashion-mnist"),
        ("cifar10", "valid: digits"),
    ],
)
def test_unknown_spec(spec, hint):
    with pytest.raises(DataError, match=hint) as err:
        load_dataset(spec)
    assert "\n" not in str(err.value) and "unknown dataset" in str(err.value)


def test_spec_errors(tmp_path):
    with pytest.raises(DataError, match=f"folder:{tmp_path}"):
        load_dataset(str(tmp_path))  # a bare folder: suggest folder:PATH
    with pytest.raises(DataError, match="needs a path"):
        load_dataset("folder:")
    with pytest.raises(DataError, match="channels"):
        load_dataset("digits", channels=2)


def test_describe_datasets():
    rows = describe_datasets()
    names = [n for n, _ in rows]
    for spec in ("digits", "mnist5k", "toy:ring8", "toy:grid25", "folder:PATH"):
        assert spec in names
    assert all(isinstance(d, str) and d and "\n" not in d for _, d in rows)


# --------------------------------------------------------------------------- sampler


def _take(sampler: BatchSampler, k: int) -> list[list[int]]:
    return [sampler.next_indices().tolist() for _ in range(k)]


def test_sampler_batches_follow_the_seeded_permutation():
    s = BatchSampler(10, 3, seed=4)
    batches = [s.next_indices() for _ in range(6)]  # 3 full batches per epoch, 1 dropped
    assert all(b.dtype == torch.int64 and b.shape == (3,) for b in batches)
    for e in range(2):
        perm = torch.randperm(10, generator=torch.Generator().manual_seed(4 * 1_000_003 + e))
        assert torch.equal(torch.cat(batches[3 * e : 3 * e + 3]), perm[:9])
    assert s.state_dict() == {"epoch": 1, "position": 9}
    assert _take(BatchSampler(10, 3, seed=4), 6) == [b.tolist() for b in batches]
    assert _take(BatchSampler(10, 3, seed=5), 6) != [b.tolist() for b in batches]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 40),
    batch=st.integers(1, 8),
    stop=st.integers(0, 30),
    world=st.integers(1, 3),
    seed=st.integers(0, 2**31),
)
def test_sampler_resume_matches_uninterrupted(n, batch, stop, world, seed):
    if batch > n // world:
        with pytest.raises(DataError, match="lower train.batch"):
            BatchSampler(n, batch, seed, rank=0, world_size=world)
        return
    for rank in range(world):
        straight = BatchSampler(n, batch, seed, rank=rank, world_size=world)
        expected = _take(straight, stop + 12)
        first = BatchSampler(n, batch, seed, rank=rank, world_size=world)
        _take(first, stop)
        state = dict(first.state_dict())
        resumed = BatchSampler(n, batch, seed, rank=rank, world_size=world)
        resumed.load_state_dict(state)
        assert _take(resumed, 12) == expected[stop:]


def test_sampler_shards_are_disjoint():
    n, world, batch = 101, 3, 5
    samplers = [BatchSampler(n, batch, seed=9, rank=r, world_size=world) for r in range(world)]
    per_epoch = samplers[0].batches_per_epoch
    assert per_epoch == (n // world) // batch == 6
    for _epoch in range(2):
        seen = [set(sum(_take(s, per_epoch), [])) for s in samplers]
        assert all(len(x) == per_epoch * batch for x in seen)  # no repeats within a rank
        for i in range(world):
            for j in range(i + 1, world):
                assert not seen[i] & seen[j]
        assert set().union(*seen) <= set(range(n))
    assert all(s.state_dict()["epoch"] == 1 for s in samplers)  # ranks stay in step


def test_sampler_errors():
    with pytest.raises(DataError, match="larger than the dataset"):
        BatchSampler(10, 11, seed=0)
    with pytest.raises(DataError, match="per rank"):
        BatchSampler(10, 4, seed=0, rank=0, world_size=3)
    s = BatchSampler(10, 2, seed=0)
    with pytest.raises(DataError, match="does not fit"):
        s.load_state_dict({"epoch": 0, "position": 11})
