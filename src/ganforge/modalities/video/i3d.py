"""I3D (Carreira & Zisserman 2017) for the standard FVD (Unterthiner et al. 2018), from a
weights file the user supplies (``ganforge eval RUN --i3d-weights PATH``; none ship, none
are downloaded).

The layout is the Inception-v1 network inflated to 3-D with TensorFlow's "same" padding,
named as the widely used PyTorch port names it (``Conv3d_1a_7x7.conv3d.weight``,
``Mixed_3b.b1b.bn.running_mean``, ``logits.conv3d.bias``, ...) so a Kinetics-400 RGB
state_dict (``rgb_imagenet.pt``) loads with every key and shape checked. FVD's features are
the 400 logits averaged over time, of clips resized to 224x224 RGB in [-1, 1], as the
reference implementation computes them.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import ConfigError
from ganforge.metrics.inception import check_state_dict, load_checked, read_state_dict

INPUT_SIZE = 224
CLASSES = 400
_HOW = "give the Kinetics-400 RGB I3D state_dict (rgb_imagenet.pt of the PyTorch I3D port)"


def _same_pad(x: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...]) -> Tensor:
    """TensorFlow's "same" padding for a (B, C, T, H, W) input, more at the far end."""
    pads: list[int] = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride), strict=True):
        total = max(k - (s if size % s == 0 else size % s), 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class Unit3D(nn.Module):
    """Conv3d ("same" padding) -> BatchNorm3d (eps 0.001) -> ReLU; or, for the logits, a
    biased convolution alone."""

    def __init__(
        self, cin: int, cout: int, kernel=(1, 1, 1), stride=(1, 1, 1), logits: bool = False
    ) -> None:
        super().__init__()
        self.kernel, self.stride, self.logits = tuple(kernel), tuple(stride), logits
        self.conv3d = nn.Conv3d(cin, cout, self.kernel, self.stride, bias=logits)
        if not logits:
            self.bn = nn.BatchNorm3d(cout, eps=0.001, momentum=0.01)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv3d(_same_pad(x, self.kernel, self.stride))
        return x if self.logits else F.relu(self.bn(x))


class SamePool(nn.Module):
    def __init__(self, kernel: tuple[int, ...], stride: tuple[int, ...]) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool3d(_same_pad(x, self.kernel, self.stride), self.kernel, self.stride)


class Mixed(nn.Module):
    """An inflated Inception block: 1x1; 1x1 -> 3x3; 1x1 -> 3x3; 3x3 max pool -> 1x1."""

    def __init__(self, cin: int, c: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        k3 = (3, 3, 3)
        self.b0 = Unit3D(cin, c[0])
        self.b1a, self.b1b = Unit3D(cin, c[1]), Unit3D(c[1], c[2], k3)
        self.b2a, self.b2b = Unit3D(cin, c[3]), Unit3D(c[3], c[4], k3)
        self.b3a, self.b3b = SamePool(k3, (1, 1, 1)), Unit3D(cin, c[5])

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(
            [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], 1
        )


_BLOCKS = (  # name, input channels, branch widths; "pool" entries: kernel, stride
    ("Conv3d_1a_7x7", None),
    ("MaxPool3d_2a_3x3", ((1, 3, 3), (1, 2, 2))),
    ("Conv3d_2b_1x1", None),
    ("Conv3d_2c_3x3", None),
    ("MaxPool3d_3a_3x3", ((1, 3, 3), (1, 2, 2))),
    ("Mixed_3b", (192, (64, 96, 128, 16, 32, 32))),
    ("Mixed_3c", (256, (128, 128, 192, 32, 96, 64))),
    ("MaxPool3d_4a_3x3", ((3, 3, 3), (2, 2, 2))),
    ("Mixed_4b", (480, (192, 96, 208, 16, 48, 64))),
    ("Mixed_4c", (512, (160, 112, 224, 24, 64, 64))),
    ("Mixed_4d", (512, (128, 128, 256, 24, 64, 64))),
    ("Mixed_4e", (512, (112, 144, 288, 32, 64, 64))),
    ("Mixed_4f", (528, (256, 160, 320, 32, 128, 128))),
    ("MaxPool3d_5a_2x2", ((2, 2, 2), (2, 2, 2))),
    ("Mixed_5b", (832, (256, 160, 320, 32, 128, 128))),
    ("Mixed_5c", (832, (384, 192, 384, 48, 128, 128))),
)


class I3D(nn.Module):
    """RGB clips (B, 3, T, 224, 224) in [-1, 1] -> (B, 400) logits averaged over time."""

    def __init__(self, classes: int = CLASSES) -> None:
        super().__init__()
        stem = {
            "Conv3d_1a_7x7": Unit3D(3, 64, (7, 7, 7), (2, 2, 2)),
            "Conv3d_2b_1x1": Unit3D(64, 64),
            "Conv3d_2c_3x3": Unit3D(64, 192, (3, 3, 3)),
        }
        self.order = [name for name, _ in _BLOCKS]
        for name, spec in _BLOCKS:
            if name in stem:
                self.add_module(name, stem[name])
            elif name.startswith("MaxPool"):
                self.add_module(name, SamePool(*spec))
            else:
                self.add_module(name, Mixed(*spec))
        self.logits = Unit3D(1024, classes, logits=True)

    def forward(self, x: Tensor) -> Tensor:
        for name in self.order:
            x = getattr(self, name)(x)
        t = min(2, x.shape[2])  # the reference pools (2, 7, 7); short clips pool what is left
        x = F.avg_pool3d(x, (t, x.shape[3], x.shape[4]), stride=1)
        return self.logits(x).mean((2, 3, 4))


def load_i3d(path: str | Path) -> I3D:
    """The I3D of a user's weights file (state_dict, weights-only torch.save or
    safetensors; every key and shape checked), in eval mode."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"I3D weights not found at {file}: {_HOW}")
    state = read_state_dict(file, "I3D weights", _HOW)
    with torch.device("meta"):
        model = I3D()
    check_state_dict(state, model, file, "I3D weights", _HOW)
    load_checked(model, state, file, "I3D weights")
    return model.eval().requires_grad_(False)


@torch.no_grad()
def i3d_features(model: I3D, clips: Tensor, batch: int = 8) -> Tensor:
    """FVD features (N, 400) of clips (N, C, T, H, W) in [-1, 1] or uint8."""
    out = []
    for i in range(0, len(clips), batch):
        x = clips[i : i + batch]
        x = x.float().div(127.5).sub(1.0) if x.dtype == torch.uint8 else x.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1, -1)
        n, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(n * t, c, h, w)
        frames = F.interpolate(
            frames, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False
        )
        x = frames.view(n, t, c, INPUT_SIZE, INPUT_SIZE).transpose(1, 2)
        out.append(model(x).double())
    return torch.cat(out)
