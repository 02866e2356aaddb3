"""Sample metrics."""

from ganforge.metrics.classes import class_coverage
from ganforge.metrics.fid import feature_statistics, fid, fid_bootstrap, frechet_distance
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.kid import kid
from ganforge.metrics.prdc import density_coverage, knn_radii, prdc, precision_recall
from ganforge.metrics.swd import (
    laplacian_pyramid,
    reconstruct_laplacian_pyramid,
    sliced_wasserstein,
)
from ganforge.metrics.toy import mode_metrics

__all__ = [
    "class_coverage",
    "density_coverage",
    "feature_statistics",
    "fid",
    "fid_bootstrap",
    "frechet_distance",
    "inception_score",
    "kid",
    "knn_radii",
    "laplacian_pyramid",
    "mode_metrics",
    "prdc",
    "precision_recall",
    "reconstruct_laplacian_pyramid",
    "sliced_wasserstein",
]
