"""ganforge-waveform: 1-D waveforms as a ganforge modality (the worked example of
``docs/adding-a-modality.md``).

It brings a dataset spec (``sines[:N]``: random sine waves), a config section
(``waveform.length``, ``waveform.max_cycles``), a network family (``wave-conv``: 1-D
transposed convolutions against a 1-D convolutional D), a metric (``spectral``), a preset
(``waveform``), a picture of the waves, a raw format (``.wav``) and an evaluation with its
real-data floor.
"""

from __future__ import annotations

from pathlib import Path

from ganforge_waveform.data import load_sines
from ganforge_waveform.modality import SPECTRAL, WaveformModality
from ganforge_waveform.nets import build_wave_conv


def register() -> None:
    """The ``ganforge.modalities`` entry point: everything goes through the public API."""
    from ganforge.registry import (
        Architecture,
        DatasetSpec,
        register_architecture,
        register_dataset,
        register_metric,
        register_modality,
        register_preset,
    )

    register_modality(WaveformModality())
    register_dataset(
        DatasetSpec(
            "sines",
            "waveform",
            load_sines,
            "N random sine waves (default 2000) of waveform.length samples",
            arg="optional",
            usage="sines[:N]",
        )
    )
    register_metric(SPECTRAL)
    register_architecture(
        Architecture(
            "wave-conv",
            build_wave_conv,
            "1-D transposed-conv G, 1-D conv D",
            ("g_width", "d_width"),
        )
    )
    register_preset("waveform", Path(__file__).with_name("waveform.yaml"))
