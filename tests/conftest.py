import os

import pytest
import torch

# Two cores: keep tests from oversubscribing them.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def fast(tmp_path):
    """Overrides that make any preset tiny: few steps, frequent logs, no progress bar."""
    return [
        "log.every=5",
        "log.sample_every=10",
        "log.checkpoint_every=10",
        "log.progress=false",
    ]
