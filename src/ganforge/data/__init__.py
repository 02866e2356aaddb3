"""Datasets: loading by spec, in-memory storage, minibatch sampling."""

from ganforge.data.dataset import Dataset
from ganforge.data.sampler import BatchSampler
from ganforge.data.specs import DATASETS, describe_datasets, load_dataset

__all__ = ["DATASETS", "BatchSampler", "Dataset", "describe_datasets", "load_dataset"]
