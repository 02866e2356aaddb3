"""InceptionV3 as used for standard FID/IS (the ``pt_inception-2015-12-05`` weights).

The architecture follows the TensorFlow graph that pytorch-fid and torch-fidelity port: torchvision
``Inception3`` naming (so the published state_dict loads with ``strict=True``), no auxiliary head,
a 1008-class ``fc``, BatchNorm ``eps=0.001``, convolutions without bias, and two TF quirks: the
average pools inside the mixed blocks ignore padding (``count_include_pad=False``) and the last
block (``Mixed_7c``) pools with max instead of average. No pretrained weights ship with ganforge;
``load_inception`` reads them from a file the user downloads.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import ConfigError

WEIGHTS_ENV = "GANFORGE_INCEPTION_WEIGHTS"
WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
INPUT_SIZE = 299
FEATURE_DIM = 2048
NUM_CLASSES = 1008

_HOW_TO_GET = (
    f"download {WEIGHTS_FILE} (from the pytorch-fid GitHub releases) and pass "
    f"--inception-weights PATH or set {WEIGHTS_ENV}"
)

_Size = int | tuple[int, int]


class _ConvBN(nn.Module):
    """Conv (no bias) -> BatchNorm (eps 0.001) -> ReLU; keys ``conv.*`` and ``bn.*``."""

    def __init__(
        self, cin: int, cout: int, kernel: _Size, stride: int = 1, padding: _Size = 0
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_tf(x: Tensor) -> Tensor:
    """3x3/1 average pool that, like TF, averages only over real (unpadded) pixels."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _max_pool_same(x: Tensor) -> Tensor:
    """3x3/1 max pool keeping the spatial size."""
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class _MixedA(nn.Module):
    """35x35 block (Mixed_5b/5c/5d): 1x1, 5x5, double 3x3 and pooled 1x1 branches."""

    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _ConvBN(cin, 64, 1)
        self.branch5x5_1 = _ConvBN(cin, 48, 1)
        self.branch5x5_2 = _ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, padding=1)
        self.branch_pool = _ConvBN(cin, pool_features, 1)

    def pool(self, x: Tensor) -> Tensor:
        """The pooling in front of ``branch_pool``."""
        return _avg_pool_tf(x)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(self.pool(x))
        return torch.cat([b1, b5, b3, bp], 1)


class _ReduceB(nn.Module):
    """35x35 -> 17x17 reduction (Mixed_6a)."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = _ConvBN(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = _ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, bd, bp], 1)


class _MixedC(nn.Module):
    """17x17 block with factorised 7x7 convolutions (Mixed_6b..6e)."""

    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = _ConvBN(cin, 192, 1)
        self.branch7x7_1 = _ConvBN(cin, c7, 1)
        self.branch7x7_2 = _ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = _ConvBN(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _ConvBN(cin, c7, 1)
        self.branch7x7dbl_2 = _ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _ConvBN(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = _ConvBN(cin, 192, 1)

    def pool(self, x: Tensor) -> Tensor:
        """The pooling in front of ``branch_pool``."""
        return _avg_pool_tf(x)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for layer in (
            self.branch7x7dbl_1,
            self.branch7x7dbl_2,
            self.branch7x7dbl_3,
            self.branch7x7dbl_4,
            self.branch7x7dbl_5,
        ):
            bd = layer(bd)
        bp = self.branch_pool(self.pool(x))
        return torch.cat([b1, b7, bd, bp], 1)


class _ReduceD(nn.Module):
    """17x17 -> 8x8 reduction (Mixed_7a)."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = _ConvBN(cin, 192, 1)
        self.branch3x3_2 = _ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _ConvBN(cin, 192, 1)
        self.branch7x7x3_2 = _ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _ConvBN(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for layer in (
            self.branch7x7x3_1,
            self.branch7x7x3_2,
            self.branch7x7x3_3,
            self.branch7x7x3_4,
        ):
            b7 = layer(b7)
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b7, bp], 1)


class _MixedE(nn.Module):
    """8x8 block with split 1x3/3x1 branches (Mixed_7b: TF average pool; Mixed_7c: max pool)."""

    def __init__(self, cin: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = _ConvBN(cin, 320, 1)
        self.branch3x3_1 = _ConvBN(cin, 384, 1)
        self.branch3x3_2a = _ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = _ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _ConvBN(cin, 448, 1)
        self.branch3x3dbl_2 = _ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = _ConvBN(cin, 192, 1)

    def pool(self, x: Tensor) -> Tensor:
        """The pooling in front of ``branch_pool``."""
        return _max_pool_same(x) if self.max_pool else _avg_pool_tf(x)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        s = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(s), self.branch3x3_2b(s)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        bp = self.branch_pool(self.pool(x))
        return torch.cat([b1, b3, bd, bp], 1)


class FIDInceptionV3(nn.Module):
    """InceptionV3 of the FID weights: images in [-1, 1] -> 2048-d pool3 features or logits."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = _ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = _ConvBN(32, 64, 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = _ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = _ConvBN(80, 192, 3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = _MixedA(192, pool_features=32)
        self.Mixed_5c = _MixedA(256, pool_features=64)
        self.Mixed_5d = _MixedA(288, pool_features=64)
        self.Mixed_6a = _ReduceB(288)
        self.Mixed_6b = _MixedC(768, c7=128)
        self.Mixed_6c = _MixedC(768, c7=160)
        self.Mixed_6d = _MixedC(768, c7=160)
        self.Mixed_6e = _MixedC(768, c7=192)
        self.Mixed_7a = _ReduceD(768)
        self.Mixed_7b = _MixedE(1280, max_pool=False)
        self.Mixed_7c = _MixedE(2048, max_pool=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    @staticmethod
    def prepare(x: Tensor) -> Tensor:
        """(N, 1 or 3, H, W) in [-1, 1] -> (N, 3, 299, 299) float32, bilinear as pytorch-fid."""
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected images (N, 1 or 3, H, W), got shape {tuple(x.shape)}")
        x = x.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)

    def _pool3(self, x: Tensor) -> Tensor:
        x = self.prepare(x)
        for layer in (
            self.Conv2d_1a_3x3,
            self.Conv2d_2a_3x3,
            self.Conv2d_2b_3x3,
            self.maxpool1,
            self.Conv2d_3b_1x1,
            self.Conv2d_4a_3x3,
            self.maxpool2,
            self.Mixed_5b,
            self.Mixed_5c,
            self.Mixed_5d,
            self.Mixed_6a,
            self.Mixed_6b,
            self.Mixed_6c,
            self.Mixed_6d,
            self.Mixed_6e,
            self.Mixed_7a,
            self.Mixed_7b,
            self.Mixed_7c,
            self.avgpool,
        ):
            x = layer(x)
        return torch.flatten(x, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Images (N, C, H, W) in [-1, 1] -> pool3 features (N, 2048)."""
        return self._pool3(x)

    def logits(self, x: Tensor) -> Tensor:
        """Images (N, C, H, W) in [-1, 1] -> class logits (N, 1008), for the Inception Score."""
        return self.fc(self._pool3(x))

    def features_and_logits(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Both outputs from one pass: ((N, 2048), (N, 1008))."""
        feats = self._pool3(x)
        return feats, self.fc(feats)


def read_state_dict(
    path: Path, what: str = "Inception weights", how: str = _HOW_TO_GET
) -> Mapping[str, object]:
    """Tensors from a .safetensors file or a weights-only torch.save file (no code
    unpickled); a ConfigError naming ``what`` and ``how`` to get the file otherwise."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path), device="cpu")
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ConfigError(
            f"cannot read {what} {path} as plain tensors (it holds other Python "
            f"objects, refused because unpickling them could run code); {how}"
        ) from None
    except Exception as exc:  # any failure to read is a problem with the user's file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"cannot read {what} {path} as plain tensors ({reason[:200]}); {how}"
        ) from None
    if not isinstance(state, Mapping):
        raise ConfigError(f"{what} {path} hold a {type(state).__name__}, not a state_dict; {how}")
    return state


def check_state_dict(
    state: Mapping[str, object],
    model: nn.Module,
    path: Path,
    what: str = "Inception weights",
    how: str = _HOW_TO_GET,
) -> None:
    """Raise ConfigError naming the first missing, unexpected or wrongly shaped key."""
    expected = model.state_dict()
    # Checkpoints saved before PyTorch 0.4.1 have no BatchNorm counters; load_state_dict fills them.
    missing = [k for k in expected if k not in state and not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    where = f"{what} {path} do not fit the network"
    if missing:
        raise ConfigError(f"{where}: missing key '{missing[0]}' ({len(missing)} missing); {how}")
    if unexpected:
        raise ConfigError(
            f"{where}: unexpected key '{unexpected[0]}' ({len(unexpected)} unexpected); {how}"
        )
    for key, value in state.items():
        if not isinstance(value, Tensor):
            raise ConfigError(f"{where}: '{key}' is a {type(value).__name__}, not a tensor")
        want = tuple(expected[key].shape)
        if tuple(value.shape) != want:
            raise ConfigError(
                f"{where}: '{key}' has shape {tuple(value.shape)}, expected {want}; {how}"
            )


def load_checked(model: nn.Module, state: Mapping[str, object], path: Path, what: str) -> None:
    """Load a checked state_dict into a model built on the meta device (every weight from
    the file, none left unset)."""
    tensors = {
        k: v.float().contiguous() if v.is_floating_point() else v.long()
        for k, v in state.items()
        if isinstance(v, Tensor)
    }
    try:
        model.load_state_dict(tensors, strict=True, assign=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise ConfigError(f"{what} {path} do not load: {first[:200]}") from None
    left = [n for n, t in model.state_dict().items() if t.is_meta]
    if left:
        raise ConfigError(f"{what} {path} do not load: no value for '{left[0]}'")


def load_inception(path: str | Path | None = None) -> FIDInceptionV3:
    """The FID InceptionV3 with weights from ``path`` or ``$GANFORGE_INCEPTION_WEIGHTS``.

    Reads a ``torch.save``'d state_dict with ``weights_only=True`` or a ``.safetensors`` file,
    checks every key and shape, and returns the model in eval mode without gradients.
    """
    if path is None or str(path).strip() == "":
        env = os.environ.get(WEIGHTS_ENV, "").strip()
        if not env:
            raise ConfigError(f"Inception FID weights not found: {_HOW_TO_GET}")
        path = env
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"Inception FID weights not found at {file}: {_HOW_TO_GET}")
    state = read_state_dict(file)
    with torch.device("meta"):  # no time spent on a random init that is overwritten anyway
        model = FIDInceptionV3()
    check_state_dict(state, model, file)
    load_checked(model, state, file, "Inception weights")
    model.eval()
    model.requires_grad_(False)
    return model
