"""The in-memory dataset every modality loads into: stored tensors, optional labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Dataset:
    """A dataset held in memory.

    ``data`` is stored compactly: ``uint8`` of shape (N, C, H, W) for images, ``float32`` of
    shape (N, D) for points, any tensor of shape (N, ...) for other modalities. ``to_model``
    turns a stored batch into the float tensor networks see (images: [-1, 1]); it works on
    whole batches, so the training loop never does per-sample Python work.
    """

    name: str
    data: torch.Tensor
    modality: str  # the registered modality that renders and measures it
    labels: torch.Tensor | None = None  # int64 (N,), or None when unlabelled
    num_classes: int = 0
    class_names: list[str] | None = None
    skipped: list[str] = field(default_factory=list)  # files that could not be read
    info: dict = field(default_factory=dict)  # modality extras, e.g. toy mode centres

    def __post_init__(self) -> None:
        if self.labels is not None and len(self.labels) != len(self.data):
            raise ValueError("labels and data differ in length")

    def __len__(self) -> int:
        return int(self.data.shape[0])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample as the networks see it, e.g. (1, 28, 28) or (2,)."""
        return tuple(self.data.shape[1:])

    @property
    def conditional(self) -> bool:
        return self.labels is not None and self.num_classes > 1

    def to_model(self, batch: torch.Tensor) -> torch.Tensor:
        """Stored batch -> float model input. uint8 images map to [-1, 1]."""
        if batch.dtype == torch.uint8:
            return batch.float().div_(127.5).sub_(1.0)
        return batch.float()

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Rows ``index`` as (model-space data, labels or None)."""
        x = self.to_model(self.data[index])
        y = self.labels[index] if self.labels is not None else None
        return x, y
