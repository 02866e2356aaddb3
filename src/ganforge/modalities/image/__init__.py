"""The image modality: datasets of pictures, sample grids, PNG folders, FID-class metrics.

Registered by :func:`register` (the ``image`` entry point of ``ganforge.modalities``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ganforge.errors import ConfigError
from ganforge.metrics.evaluate import batched
from ganforge.modalities.image.augment import AdaptiveAugment, Both, DiffAugment, parse_policy
from ganforge.modalities.image.evaluate import (
    check_periodic,
    comparison,
    evaluate_images,
    fit_to_shape,
)
from ganforge.modalities.image.extractors import (
    classifier_extractor,
    dataset_key,
    labelled_splits,
    register_labelled,
)
from ganforge.modalities.image.metrics import METRICS
from ganforge.modalities.image.render import make_class_grid, make_grid, save_images, to_uint8
from ganforge.modalities.image.specs import LABELLED, SPECS, adapt
from ganforge.modality import Evaluation, Modality
from ganforge.registry import register_dataset, register_metric, register_modality


@dataclass
class ImageOptions:
    """The ``image`` config section."""

    size: int | None = field(default=None, metadata={"range": (4, 1024, True)})  # None: native
    channels: int | None = field(default=None, metadata={"range": (1, 3, True)})  # 1 grey, 3 RGB
    # D-input augmentation for small data sets: none | diffaugment | ada
    augment: str = field(
        default="none", metadata={"choices": ("none", "diffaugment", "ada", "diffaugment+ada")}
    )
    augment_policy: str = "color,translation,cutout"  # the ops, comma-separated
    ada_target: float = field(default=0.6, metadata={"range": (0, 1, False)})  # r_t target
    ada_kimg: float = field(default=500.0, metadata={"range": (0, None, False)})  # p 0 -> 1


class ImageModality(Modality):
    """Images (C, H, W) in [-1, 1]: grids for people, PNG folders / ``.npy`` for tools."""

    name = "image"
    description = "pictures (C, H, W) in [-1, 1]: grids, PNG folders, FID/KID/PR/SWD"
    options = ImageOptions
    option_aliases = {"data.image_size": "size", "data.channels": "channels"}  # noqa: RUF012
    raw_formats = (".npy", "a folder (PNG files)")

    def load_options(self, cfg: Any) -> dict[str, Any]:
        sec = cfg.section("image")
        return {"image_size": sec.size, "channels": sec.channels}

    def resize(self, dataset: Any, shape: tuple[int, ...], cfg: Any) -> Any:
        if len(shape) != 3 or shape[1] != shape[2]:
            return None
        sec = cfg.section("image")
        sec.size, sec.channels = shape[1], shape[0]
        return adapt(dataset, sec.size, sec.channels)

    def as_array(self, samples: torch.Tensor) -> Any:
        return to_uint8(samples)  # (N, H, W, C) uint8, as images are stored

    def decode(self, samples: torch.Tensor, info: dict[str, Any]) -> list[Image.Image]:
        """One PIL image per sample: mode ``L`` (grey) or ``RGB``."""
        pixels = to_uint8(samples)
        if pixels.shape[-1] == 1:
            return [Image.fromarray(p[..., 0], "L") for p in pixels]
        return [Image.fromarray(p, "RGB") for p in pixels]

    def class_probabilities(self, run: Any) -> Any:
        spec = run.config.data.spec
        if not dataset_key(spec):
            raise ConfigError(
                f"--filter needs a dataset classifier; '{spec}' has none (fashion-mnist, "
                "mnist5k and digits do)"
            )
        extractor = classifier_extractor(spec, progress=False)

        def probs(x: torch.Tensor) -> torch.Tensor:
            return batched(extractor.probs, _to_classifier(x, spec, fit_to_shape))

        return probs

    def d_transform(self, cfg: Any) -> Any:
        sec = cfg.section("image")
        try:
            parse_policy(sec.augment_policy)
        except ValueError as exc:
            raise ConfigError(f"image.augment_policy: {exc}") from None
        if sec.augment == "diffaugment":
            return DiffAugment(sec.augment_policy)
        ada = AdaptiveAugment(sec.augment_policy, sec.ada_target, sec.ada_kimg)
        if sec.augment == "ada":
            return ada
        if sec.augment == "diffaugment+ada":
            return Both(DiffAugment(sec.augment_policy), ada)
        return None

    def picture(self, samples: torch.Tensor, info: dict[str, Any]) -> Image.Image:
        labels = info.get("conditions")
        if torch.is_tensor(labels) and labels.dim() == 1 and len(labels) == len(samples):
            return make_class_grid(samples, labels.tolist(), info.get("class_names"))
        return make_grid(samples)

    def save(self, samples: torch.Tensor, path: Path, info: dict[str, Any]) -> Path:
        suffix = Path(path).suffix.lower()
        if suffix and suffix != ".npy":
            return super().save(samples, path, info)  # the one-line refusal
        return save_images(samples, path)

    def evaluate(
        self, run: Any, metrics: str | None, n: int, seed: int, progress: bool = True, **kw: Any
    ) -> Evaluation:
        return evaluate_images(run, metrics, n, seed, progress, kw.get("inception_weights"))

    def check_periodic(self, cfg: Any) -> None:
        check_periodic(cfg)

    def periodic_comparison(
        self, cfg: Any, sample_shape: tuple[int, ...], info: dict[str, Any] | None = None
    ) -> Any:
        return comparison(cfg, sample_shape)


def _to_classifier(x: torch.Tensor, spec: str, fit: Any) -> torch.Tensor:
    """Generated images at the classifier's size and channels (its dataset's native ones)."""
    shape = tuple(labelled_splits(spec).train.data.shape[1:])
    images = torch.from_numpy(to_uint8(x)).permute(0, 3, 1, 2).contiguous()
    return fit(images, shape).float().div(127.5).sub(1.0)


def register() -> None:
    """Register the image modality and its dataset specs (entry point ``image``)."""
    register_modality(ImageModality())
    for spec in SPECS:
        register_dataset(spec)
    for metric in METRICS:
        register_metric(metric)
    for name, splits in LABELLED.items():
        register_labelled(name, splits)


__all__ = ["ImageModality", "ImageOptions", "make_grid", "register", "save_images", "to_uint8"]
