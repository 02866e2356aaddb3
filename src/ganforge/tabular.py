"""Synthetic tables: :class:`TableSynthesizer` (fit a DataFrame, sample rows like it).

The implementation lives with the tabular modality
(:mod:`ganforge.modalities.table.synthesizer`); this is its public import path.
"""

from ganforge.modalities.table.synthesizer import TableSynthesizer

__all__ = ["TableSynthesizer"]
