"""Datasets: loading by spec, in-memory storage, minibatch sampling, the training-data protocol."""

from ganforge.data.dataset import Dataset
from ganforge.data.specs import describe_datasets, find_spec, load_dataset, spec_modality
from ganforge.engine.in_memory import InMemoryData
from ganforge.engine.sampler import BatchSampler

__all__ = [
    "BatchSampler",
    "Dataset",
    "InMemoryData",
    "describe_datasets",
    "find_spec",
    "load_dataset",
    "spec_modality",
]
