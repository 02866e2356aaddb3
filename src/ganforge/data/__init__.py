"""Datasets: loading by spec, in-memory storage, minibatch sampling, the training-data protocol."""

from ganforge.data.dataset import Dataset
from ganforge.data.sampler import BatchSampler
from ganforge.data.specs import describe_datasets, find_spec, load_dataset, spec_modality
from ganforge.data.training_data import InMemoryData

__all__ = [
    "BatchSampler",
    "Dataset",
    "InMemoryData",
    "describe_datasets",
    "find_spec",
    "load_dataset",
    "spec_modality",
]
