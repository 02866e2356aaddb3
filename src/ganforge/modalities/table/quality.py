"""How good a synthetic table is: the computations behind the table metrics
(:mod:`.metrics` declares them, their floors and directions), each comparing training rows
with other rows (synthetic, or held-out real ones for the floor):

* ``column_shapes``: mean over columns of the Kolmogorov-Smirnov statistic (numbers, dates)
  or the total variation distance (labels); 0 is identical.
* ``pair_trends``: mean over **all** column pairs of |corr_real - corr_other| / 2 for two
  number columns, else the total variation of their contingency tables (numbers binned at
  the training rows' deciles); 0 is identical. No pair is skipped for being weak.
* ``detection_auc``: ROC AUC of a gradient-boosted classifier telling training rows from
  ``other`` rows, on a held-out half; 0.5 is ideal.
* ``efficacy``: a gradient-boosted model fitted on ``other`` predicts ``target`` on the
  real hold-out (accuracy, or R^2 for numbers); compare with the model fitted on real rows.
* ``quality``: the mean of column shapes, pair trends and the detector's separability
  (1 - its log loss / ln 2, clipped to 0..1); 0 is ideal. It keeps ranking where the
  detection AUC saturates at 1.0.
* ``dcr_closer_to_train``: share of ``other`` rows nearer a training row than a hold-out
  row (50% ideal; more means copying), and ``exact_copies``: share equal to a training row.
* ``spike_mass_error``: the largest |share of rows holding the value (training) - (other)|
  over the spikes of the number columns (a value held by 5%+ of a column's present
  training rows, the numeric codec's rule: the 0 of a spending column); tables without
  spikes have none. ``missing_rate_error``: the largest |missing rate difference| over the
  columns. 0 is identical for both.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ganforge.modalities.table.numeric import SPIKE_SHARE

NUMERIC = ("continuous", "integer", "datetime")
LN2 = float(np.log(2.0))


def _numbers(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        d = s.astype("datetime64[ns]")
        return np.where(d.isna(), np.nan, d.astype("int64").to_numpy(np.float64) / 1e9)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        return (
            pd.to_numeric(
                pd.to_datetime(s, errors="coerce", format="mixed"), errors="coerce"
            ).to_numpy(np.float64)
            / 1e9
        )
    return pd.to_numeric(s, errors="coerce").to_numpy(np.float64)


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import ks_2samp

    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return float(a.size != b.size)
    return float(ks_2samp(a, b).statistic)


def _labels(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "<missing>").astype(str)


def _tv(a: pd.Series, b: pd.Series) -> float:
    pa, pb = a.value_counts(normalize=True), b.value_counts(normalize=True)
    return float(0.5 * pa.subtract(pb, fill_value=0).abs().sum())


def column_shapes(train: pd.DataFrame, other: pd.DataFrame, kinds: dict[str, str]) -> float:
    scores = []
    for c, kind in kinds.items():
        if kind == "id":
            continue
        if kind in NUMERIC:
            scores.append(_ks(_numbers(train[c]), _numbers(other[c])))
        else:
            scores.append(_tv(_labels(train[c]), _labels(other[c])))
    return float(np.mean(scores)) if scores else 0.0


def _codes(train: pd.Series, other: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Both columns as integer codes of one shared vocabulary: labels as they are, numbers
    by the training rows' decile bin; missing values a code of their own."""
    if kind not in NUMERIC:
        codes, _ = pd.factorize(pd.concat([_labels(train), _labels(other)], ignore_index=True))
        return codes[: len(train)], codes[len(train) :]
    edges = np.unique(np.nanquantile(_numbers(train), np.linspace(0, 1, 11)))
    out = []
    for s in (train, other):
        x = _numbers(s)
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(len(edges) - 2, 0))
        out.append(np.where(np.isnan(x), len(edges), idx))
    return out[0], out[1]


def _joint_tv(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    """Total variation between the training and other rows' joint (a, b) frequencies."""
    width = int(max(b[0].max(initial=0), b[1].max(initial=0))) + 1
    joint = np.concatenate([a[0] * width + b[0], a[1] * width + b[1]])
    codes, _ = pd.factorize(joint)
    n = len(a[0])
    pt = np.bincount(codes[:n], minlength=codes.max() + 1) / max(n, 1)
    po = np.bincount(codes[n:], minlength=codes.max() + 1) / max(len(joint) - n, 1)
    return float(0.5 * np.abs(pt - po).sum())


def pair_trends(train: pd.DataFrame, other: pd.DataFrame, kinds: dict[str, str]) -> float:
    cols = [c for c, k in kinds.items() if k != "id"]
    # each column converted once: a wide table has thousands of pairs
    codes = {c: _codes(train[c], other[c], kinds[c]) for c in cols}
    numbers = {c: (_numbers(train[c]), _numbers(other[c])) for c in cols if kinds[c] in NUMERIC}
    scores = []
    for a, b in itertools.combinations(cols, 2):
        if a in numbers and b in numbers:
            real = _corr_of(numbers[a][0], numbers[b][0])
            scores.append(abs(real - _corr_of(numbers[a][1], numbers[b][1])) / 2)
        else:
            scores.append(_joint_tv(codes[a], codes[b]))
    return float(np.mean(scores)) if scores else 0.0


def _corr_of(x: np.ndarray, y: np.ndarray) -> float:
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return 0.0
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def correlation_matrix(frame: pd.DataFrame, kinds: dict[str, str]) -> tuple[np.ndarray, list]:
    """Pearson correlations of the number columns and label codes (for the heat map)."""
    cols = [c for c, k in kinds.items() if k != "id"]
    data = np.column_stack(
        [
            _numbers(frame[c])
            if kinds[c] in NUMERIC
            else pd.Series(pd.factorize(_labels(frame[c]), sort=True)[0], dtype=float).to_numpy()
            for c in cols
        ]
    )
    data = np.where(np.isnan(data), np.nanmean(data, 0), data)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(data, rowvar=False))
    return np.atleast_2d(corr), cols


def features(
    frames: list[pd.DataFrame], kinds: dict[str, str], ref: pd.DataFrame, one_hot: bool
) -> list[np.ndarray]:
    """Numeric feature matrices of ``frames`` with scales and categories from ``ref``:
    numbers standardised (missing -> 0 plus a flag), labels as codes or one-hot (top 20)."""
    out: list[list[np.ndarray]] = [[] for _ in frames]
    for c, kind in kinds.items():
        if kind == "id":
            continue
        if kind in NUMERIC:
            r = _numbers(ref[c])
            mu, sd = np.nanmean(r) if np.isfinite(r).any() else 0.0, np.nanstd(r) or 1.0
            for i, f in enumerate(frames):
                x = (_numbers(f[c]) - mu) / sd
                out[i].append(np.nan_to_num(x)[:, None])
                if np.isnan(r).any():
                    out[i].append(np.isnan(x)[:, None].astype(float))
        else:
            cats = _labels(ref[c]).value_counts().index[:20]
            for i, f in enumerate(frames):
                codes = pd.Index(cats).get_indexer(_labels(f[c]))
                if one_hot:
                    oh = np.zeros((len(f), len(cats) + 1))
                    oh[np.arange(len(f)), np.where(codes < 0, len(cats), codes)] = 1.0
                    out[i].append(oh)
                else:
                    out[i].append(np.where(codes < 0, len(cats), codes)[:, None].astype(float))
    return [np.concatenate(parts, 1) for parts in out]


def detection(
    train: pd.DataFrame, other: pd.DataFrame, kinds: dict[str, str], seed: int
) -> tuple[float, float]:
    """(ROC AUC, log loss) of one gradient-boosted classifier telling ``train`` rows from
    ``other`` rows, fitted on one half and tested on the other. The AUC saturates at 1.0
    once the rows can be told apart; the log loss (ln 2 = 0.693 at chance, lower is more
    detectable) keeps ranking how confidently they are told apart."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import log_loss, roc_auc_score

    n = min(len(train), len(other))
    rng = np.random.default_rng(seed)
    a = train.iloc[rng.choice(len(train), n, replace=False)]
    b = other.iloc[rng.choice(len(other), n, replace=False)]
    xa, xb = features([a, b], kinds, train, one_hot=False)
    x, y = np.concatenate([xa, xb]), np.r_[np.zeros(n), np.ones(n)]
    perm = rng.permutation(2 * n)
    fit, test = perm[:n], perm[n:]
    clf = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    clf.fit(x[fit], y[fit])
    p = clf.predict_proba(x[test])[:, 1]
    auc = roc_auc_score(y[test], p)
    return float(max(auc, 1 - auc)), float(log_loss(y[test], p, labels=[0, 1]))


def detection_auc(
    train: pd.DataFrame, other: pd.DataFrame, kinds: dict[str, str], seed: int
) -> float:
    """ROC AUC of a classifier telling ``train`` rows from ``other`` rows (0.5 ideal)."""
    return detection(train, other, kinds, seed)[0]


def separability(log_loss: float) -> float:
    """A detector's log loss as 0 (chance: ln 2 or worse) .. 1 (told apart with certainty)."""
    return float(min(max(1.0 - log_loss / LN2, 0.0), 1.0))


def combined(shapes: float, pairs: float, log_loss: float) -> float:
    """The mean of column shapes, pair trends and the detector's separability: 0 ideal, 1
    worst. Unlike the AUC it still ranks tables a detector tells apart every time."""
    return float((shapes + pairs + separability(log_loss)) / 3)


def efficacy(
    train_on: pd.DataFrame, test_on: pd.DataFrame, kinds: dict[str, str], target: str, seed: int
) -> tuple[float, str]:
    """(score, name): accuracy for a label target, R^2 for a number target."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, r2_score

    rest = {c: k for c, k in kinds.items() if c != target}
    xa, xb = features([train_on, test_on], rest, train_on, one_hot=False)
    if kinds[target] in NUMERIC:
        ya, yb = _numbers(train_on[target]), _numbers(test_on[target])
        ok_a, ok_b = ~np.isnan(ya), ~np.isnan(yb)
        model = HistGradientBoostingRegressor(max_iter=200, random_state=seed)
        model.fit(xa[ok_a], ya[ok_a])
        return float(r2_score(yb[ok_b], model.predict(xb[ok_b]))), "r2"
    ya, yb = _labels(train_on[target]).to_numpy(), _labels(test_on[target]).to_numpy()
    if len(np.unique(ya)) < 2:
        return 0.0, "accuracy"
    model = HistGradientBoostingClassifier(max_iter=200, random_state=seed)
    model.fit(xa, ya)
    return float(accuracy_score(yb, model.predict(xb))), "accuracy"


def privacy(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    other: pd.DataFrame,
    kinds: dict[str, str],
    seed: int,
) -> dict[str, float]:
    from sklearn.neighbors import NearestNeighbors

    n = min(len(train), len(holdout), len(other), 5000)
    rng = np.random.default_rng(seed)
    tr = train.iloc[rng.choice(len(train), n, replace=False)]
    ho = holdout.iloc[rng.choice(len(holdout), n, replace=False)]
    ot = other.iloc[rng.choice(len(other), n, replace=False)]
    xt, xh, xo = features([tr, ho, ot], kinds, train, one_hot=True)
    dt = NearestNeighbors(n_neighbors=1).fit(xt).kneighbors(xo)[0][:, 0]
    dh = NearestNeighbors(n_neighbors=1).fit(xh).kneighbors(xo)[0][:, 0]
    closer = float(np.mean(dt < dh) + 0.5 * np.mean(dt == dh))
    cols = [c for c, k in kinds.items() if k != "id"]
    return {"dcr_closer_to_train": closer, "exact_copies": copy_share(train, other, cols)}


def copy_share(train: pd.DataFrame, other: pd.DataFrame, cols: list[str]) -> float:
    """Share of ``other`` rows equal to a training row (on ``cols``)."""
    seen = set(pd.util.hash_pandas_object(train[cols].astype(str), index=False).to_numpy())
    hashes = pd.util.hash_pandas_object(other[cols].astype(str), index=False).to_numpy()
    return float(np.mean([h in seen for h in hashes]))


def spike_masses(train: pd.DataFrame, kinds: dict[str, str]) -> list[tuple[str, float, float]]:
    """(column, value, share of all rows) of every spike of the number columns."""
    out = []
    for c, kind in kinds.items():
        if kind not in NUMERIC:
            continue
        x = _numbers(train[c])
        present = x[~np.isnan(x)]
        values, counts = np.unique(present, return_counts=True)
        for v, k in zip(values, counts, strict=True):
            if k >= SPIKE_SHARE * present.size:
                out.append((c, float(v), float(k / max(len(x), 1))))
    return out


def spike_mass_error(
    spikes: list[tuple[str, float, float]], other: pd.DataFrame
) -> tuple[float, str]:
    """(largest |real share - share in ``other``| over ``spikes``, ``column=value`` of it)."""
    errors = {
        f"{c}={v:g}": abs(share - float(np.mean(_numbers(other[c]) == v))) for c, v, share in spikes
    }
    worst = max(errors, key=errors.get)
    return errors[worst], worst


def missing_rate_error(
    train: pd.DataFrame, other: pd.DataFrame, kinds: dict[str, str]
) -> tuple[float, str]:
    """(largest |missing rate difference| over the columns, the column's name)."""
    errors = {
        c: abs(float(train[c].isna().mean()) - float(other[c].isna().mean()))
        for c, k in kinds.items()
        if k != "id"
    }
    worst = max(errors, key=errors.get, default="")
    return errors.get(worst, 0.0), worst
