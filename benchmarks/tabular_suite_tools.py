"""One tool's fit and sample for ``benchmarks/tabular_suite.py``, in its own process.

``python benchmarks/tabular_suite_tools.py JOB.json`` reads the training CSV named in the job,
fits the tool with its own defaults, writes ``n`` synthetic rows as CSV and prints one JSON
line: fit and sampling seconds, the process's peak memory. It runs in ganforge's
environment (``ganforge``, ``copula``) or in ``.venv-ctgan`` (``ctgan``, ``tvae``, and
``copula`` through SDV where SDV is installed there), so it imports nothing of ganforge at
the top.

Every tool gets the same columns and kinds (ganforge's detection, done once by the suite):
CTGAN and TVAE take the labelled columns as ``discrete_columns``; for the tools that cannot
read them, dates go in as seconds and come back as dates, and key columns (``id``: a value
per row) are left out and filled with fresh keys afterwards, as ganforge does.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np
import pandas as pd

NULL = "\x1fmissing"  # suffix of the flag column of a number column's missing values


def _to_model(train: pd.DataFrame, kinds: dict[str, str], flags: bool = False) -> pd.DataFrame:
    """Dates as seconds since 1970 (NaN where missing); key columns dropped. ``flags``
    (CTGAN and TVAE take no missing numbers): a missing number becomes the column's mean
    and a yes/no column beside it, as SDV's CTGANSynthesizer prepares them."""
    out = train.drop(columns=[c for c, k in kinds.items() if k == "id"])
    for c, k in kinds.items():
        if k == "datetime":
            d = pd.to_datetime(out[c], errors="coerce", format="mixed")
            if getattr(d.dt, "tz", None) is not None:  # zoned times: seconds of UTC
                d = d.dt.tz_convert("UTC").dt.tz_localize(None)
            seconds = d.astype("datetime64[ns]").astype("int64").astype(float) / 1e9
            out[c] = np.where(d.isna(), np.nan, seconds)
        if flags and k in ("continuous", "integer", "datetime") and out[c].isna().any():
            x = pd.to_numeric(out[c], errors="coerce")
            out[c + NULL] = np.where(x.isna(), "yes", "no")
            out[c] = x.fillna(x.mean() if x.notna().any() else 0.0)
    return out


def _from_model(synth: pd.DataFrame, train: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Seconds back to dates; fresh keys for the key columns; the training column order."""
    synth = synth.copy()
    for flag in [c for c in synth.columns if str(c).endswith(NULL)]:
        column = flag[: -len(NULL)]
        synth[column] = synth[column].where(synth[flag].astype(str) != "yes")
    for c, k in kinds.items():
        if k == "datetime":
            seconds = pd.to_numeric(synth[c], errors="coerce")
            synth[c] = pd.to_datetime(seconds.round(), unit="s", errors="coerce")
        elif k == "id":
            synth[c] = [f"{c}-{i}" for i in range(len(synth))]
    return synth[list(train.columns)]


def fit_ganforge(train, kinds, n, seed, job):
    from ganforge.tabular import TableSynthesizer

    t0 = time.perf_counter()
    synth = TableSynthesizer(seed=seed, holdout=0.0, overrides=job.get("ganforge_set", []))
    synth.fit(train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = synth.sample(n, seed=seed)
    extra = {
        "best_step": synth.best_step,
        "stopped_early": synth.stopped_early,
        "steps": synth.run.config.train.steps,
    }
    return rows, fit_s, time.perf_counter() - t0, extra


def fit_ctgan_family(train, kinds, n, seed, job):
    import torch
    from ctgan import CTGAN, TVAE

    torch.manual_seed(seed)
    np.random.seed(seed)
    data = _to_model(train, kinds, flags=True)
    discrete = [c for c in data.columns if kinds.get(c) in ("categorical", "boolean", None)]
    epochs = job.get("ctgan_epochs")  # None: the tool's own default (300)
    options = {} if epochs is None else {"epochs": int(epochs)}
    model = (CTGAN if job["tool"] == "ctgan" else TVAE)(**options)
    t0 = time.perf_counter()
    model.fit(data, discrete)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = _from_model(model.sample(n), train, kinds)
    used = getattr(model, "_epochs", getattr(model, "epochs", None))  # CTGAN's, TVAE's
    return rows, fit_s, time.perf_counter() - t0, {"epochs": used}


def fit_copula(train, kinds, n, seed, job):
    """SDV's GaussianCopulaSynthesizer where SDV is installed, else :class:`GaussianCopula`."""
    try:
        import sdv  # noqa: F401
    except ImportError:
        return _fit_own_copula(train, kinds, n, seed)
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    data = _to_model(train, kinds)
    sdtypes = {"categorical": "categorical", "boolean": "categorical", "datetime": "numerical"}
    columns = {c: {"sdtype": sdtypes.get(kinds[c], "numerical")} for c in data.columns}
    metadata = Metadata.load_from_dict(
        {"tables": {"table": {"columns": columns}}, "METADATA_SPEC_VERSION": "V1"}
    )
    np.random.seed(seed)
    model = GaussianCopulaSynthesizer(metadata)
    t0 = time.perf_counter()
    model.fit({"table": data})  # SDV 2 takes (and gives) a table by name
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    drawn = model.sample(n)
    drawn = drawn["table"] if isinstance(drawn, dict) else drawn
    rows = _from_model(drawn, train, kinds)
    return rows, fit_s, time.perf_counter() - t0, {"impl": f"sdv {sdv.__version__}"}


def _fit_own_copula(train, kinds, n, seed):
    t0 = time.perf_counter()
    model = GaussianCopula(_to_model(train, kinds), kinds)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = _from_model(model.sample(n, seed), train, kinds)
    return rows, fit_s, time.perf_counter() - t0, {"impl": "own"}


MISSING = "\x00missing"


class GaussianCopula:
    """A Gaussian copula: each column to normal scores through its empirical distribution
    (labels: an interval of [0, 1] per label, by frequency), one correlation matrix of the
    scores; rows drawn from it and mapped back through each column's quantiles. Missing
    values come back at each column's real rate, independently of the rest."""

    def __init__(self, data: pd.DataFrame, kinds: dict[str, str]) -> None:
        from scipy.stats import norm

        self.columns, self.parts = list(data.columns), []
        scores = []
        for c in self.columns:
            s = data[c]
            missing = float(s.isna().mean())
            if kinds[c] in ("categorical", "boolean"):
                labels = s.astype(object).where(s.notna(), MISSING)
                freq = labels.value_counts(normalize=True)
                upper = np.cumsum(freq.to_numpy())
                idx = freq.index.get_indexer(labels)
                u = upper[idx] - freq.to_numpy()[idx] / 2  # the middle of the label's interval
                self.parts.append(("labels", list(freq.index), upper, 0.0))
            else:
                x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
                present = np.sort(x[~np.isnan(x)]) if (~np.isnan(x)).any() else np.zeros(1)
                ranks = pd.Series(x).rank(pct=True).to_numpy()
                u = np.where(np.isnan(ranks), 0.5, ranks - 0.5 / max(len(present), 1))
                whole = bool(np.all(np.mod(present, 1) == 0))
                self.parts.append(("numbers", present, whole, missing))
            scores.append(norm.ppf(np.clip(u, 1e-6, 1 - 1e-6)))
        z = np.column_stack(scores) if scores else np.zeros((len(data), 0))
        corr = np.corrcoef(z, rowvar=False) if z.shape[1] > 1 else np.ones((1, 1))
        self.corr = np.nan_to_num(np.atleast_2d(corr)) + 1e-6 * np.eye(z.shape[1])
        np.fill_diagonal(self.corr, 1.0)

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        from scipy.stats import norm

        rng = np.random.default_rng(seed)
        z = rng.multivariate_normal(np.zeros(len(self.columns)), self.corr, n, method="eigh")
        u = norm.cdf(z)
        out = {}
        for j, (c, part) in enumerate(zip(self.columns, self.parts, strict=True)):
            if part[0] == "labels":
                _, labels, upper, _ = part
                idx = np.minimum(np.searchsorted(upper, u[:, j]), len(labels) - 1)
                values = pd.Series(np.asarray(labels, dtype=object)[idx])
                out[c] = values.where(values != MISSING, None)
            else:
                _, present, whole, missing = part
                q = np.quantile(present, u[:, j])
                q = np.round(q) if whole else q
                q[rng.random(n) < missing] = np.nan
                out[c] = pd.Series(q)
        return pd.DataFrame(out)


TOOLS = {
    "ganforge": fit_ganforge,
    "ctgan": fit_ctgan_family,
    "tvae": fit_ctgan_family,
    "copula": fit_copula,
}


def main() -> None:
    job = json.loads(open(sys.argv[1], encoding="utf-8").read())
    train = pd.read_csv(job["train_csv"])
    cpu0 = time.process_time()
    rows, fit_s, sample_s, extra = TOOLS[job["tool"]](
        train, job["kinds"], int(job["n"]), int(job["seed"]), job
    )
    cpu_s = time.process_time() - cpu0  # all threads; holds when other jobs share the cores
    rows.to_csv(job["out_csv"], index=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = {
        "fit_s": round(fit_s, 2),
        "sample_s": round(sample_s, 2),
        "cpu_s": round(cpu_s, 2),
        "peak_mb": round(peak_mb),
    }
    print(json.dumps({**line, **extra}))


if __name__ == "__main__":
    main()
