"""Sample metrics."""

from ganforge.metrics.toy import mode_metrics

__all__ = ["mode_metrics"]
