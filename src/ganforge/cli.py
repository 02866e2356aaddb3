"""The ``ganforge`` command: a thin layer that parses arguments and calls :mod:`ganforge.api`."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from ganforge import api
from ganforge import config as config_mod
from ganforge.cli_args import EXIT_USER_ERROR, build_parser
from ganforge.config import default_preset, list_presets
from ganforge.config.keys import shown_rows
from ganforge.data import describe_datasets
from ganforge.data.bare_paths import read_bare_path
from ganforge.engine.losses import LOSSES
from ganforge.errors import ConfigError, GanforgeError
from ganforge.evaluation import evaluate
from ganforge.plugins import loaded
from ganforge.registry import ARCHITECTURES, DATASETS, METRICS, MODALITIES
from ganforge.report import metric_rows
from ganforge.sampling import parse_conditions
from ganforge.synthetic import augment
from ganforge.tensorboard import export_run

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as the shell reports a command ended by it


def _train(args: argparse.Namespace) -> int:
    config, overrides = args.config, args.overrides
    # a bare path's own preset is chosen by ganforge.train, which says it with the path
    if config is None and not args.resume and read_bare_path(args.data) is None:
        config, chosen = default_preset(args.data) if args.data else ("demo", [])
        overrides = chosen + overrides  # the user's --set come last and win
        if args.data and os.environ.get("RANK", "0") == "0":  # torchrun: rank 0 says it
            print(f"ganforge: training preset {config} on {args.data} (name a preset to change)")
    result = api.train(
        config,
        data=args.data,
        out=args.out,
        steps=args.steps,
        overrides=overrides,
        resume=args.resume,
        device=args.device,
        progress=False if args.no_progress else None,
        init_from=args.init_from,
        init_optimizer=args.init_optimizer,
    )
    if result.rank:  # in a torchrun job rank 0 reports for everyone
        return 130 if result.interrupted else 0
    status = "interrupted: checkpoint saved" if result.interrupted else "done"
    if result.stopped_early:
        status = "stopped early"
    print(
        f"{status} at step {result.step} ({result.elapsed_s:.1f} s of training, "
        f"{result.samples_seen} samples seen)"
        + (f": {result.stopped_early}" if result.stopped_early else "")
    )

    for label, path in (
        ("run directory", result.run_dir),
        ("sample grid", result.samples),
        *result.files.items(),
        ("progress GIF", result.gif),
        ("equilibrium plot", result.equilibrium),
        ("best checkpoint", result.best),
    ):
        if path is not None:
            hint = " (sample, interpolate or eval it with --best)" if path == result.best else ""
            print(f"  {label:17s} {path}{hint}")
    if result.skipped_files:
        print(
            f"  skipped {len(result.skipped_files)} unreadable files, e.g. "
            f"{result.skipped_files[0]} (all listed in {result.run_dir / 'run.json'})"
        )
    m = result.metrics
    if "critic_gap" in m:  # a critic's scores are no probabilities: no 0.5 to compare with
        print(
            f"  critic: E[D(x)] = {m['critic_real']:.3f}, E[D(G(z))] = {m['critic_fake']:.3f}, "
            f"gap {m['critic_gap']:.3f} (0 when G matches the data)"
        )
    elif "d_real" in m:
        print(f"  D(x) = {m['d_real']:.3f}, D(G(z)) = {m['d_fake']:.3f} (equilibrium: 0.5, 0.5)")
    if "modes_covered" in m:
        print(
            f"  modes covered {m['modes_covered']}/{m['num_modes']}, "
            f"high-quality samples {m['high_quality']:.1%}"
        )
    if result.interrupted:
        print(f"  continue with: ganforge train --resume --out {result.run_dir}")
        return 130
    return 0


def _sample(args: argparse.Namespace) -> int:
    path = api.sample(
        args.run,
        n=args.n,
        out=args.out,
        seed=args.seed,
        label=args.label,
        conditions=parse_conditions(args.condition),
        temperature=args.temperature,
        best=args.best,
        hold=args.hold,
        upsample=args.upsample,
    )
    print(f"wrote {args.n} samples to {path}")
    return 0


def _interpolate(args: argparse.Namespace) -> int:
    keep = tuple(k.strip() for k in args.keep.split(",") if k.strip())
    path = api.interpolate(
        args.run, frames=args.frames, out=args.out, seed=args.seed, keep=keep, best=args.best
    )
    print(f"wrote {args.frames}-frame interpolation to {path}")
    return 0


def _augment(args: argparse.Namespace) -> int:
    m = augment(
        args.run,
        args.per_class,
        args.out,
        seed=args.seed,
        truncation=args.truncation,
        min_confidence=args.filter,
        latent_scale=args.expand,
        snapshots=args.snapshots,
    )
    print(
        f"wrote {m['total']} samples ({m['per_class']} per class, {len(m['counts'])} classes) "
        f"to {args.out}: one folder per class, synthetic.npz, manifest.json"
    )
    return 0


def _eval(args: argparse.Namespace) -> int:
    import json

    result = evaluate(
        args.run,
        metrics=args.metrics,
        n=args.n,
        inception_weights=args.inception_weights,
        seed=args.seed,
        i3d_weights=args.i3d_weights,
        best=args.best,
    )
    if args.json:
        print(json.dumps(result))
        return 0
    rows = metric_rows(result["scores"])
    width = max([len(r[0]) for r in rows] + [6])
    base = result.get("baseline")
    head = f"{'metric':{width}s}  {'value':>10s}  {'spread':>10s}  {'floor':>10s}"
    print(head + (f"  {base:>10s}" if base else ""))
    for name, value, spread, floor, baseline in rows:
        line = f"{name:{width}s}  {value:>10s}  {spread:>10s}  {floor:>10s}"
        print(line + (f"  {baseline:>10s}" if base else ""))
    for note in result["notes"]:
        print(f"note: {note}")
    print(
        f"{result['n']} samples of the {result['checkpoint']} checkpoint (step "
        f"{result['step']}) in {result['seconds']} s; wrote {args.run}/eval.json and "
        f"{args.run}/report.html"
    )
    return 0


def _features(args: argparse.Namespace) -> int:
    if args.epochs < 1:
        raise ConfigError(f"--epochs must be at least 1; got {args.epochs}")
    # the image modality's classifiers: not loaded on every start of the command
    from ganforge.modalities.image.extractors import train_features, weights_path

    _, meta = train_features(args.dataset, epochs=args.epochs, seed=args.seed)
    print(
        f"{meta['dataset']} classifier: test accuracy {meta['test_accuracy']:.2%} "
        f"({meta['n_test']} test images, {meta['train_seconds']} s); saved to "
        f"{weights_path(meta['dataset'])}"
    )
    return 0


def _studio(args: argparse.Namespace) -> int:
    from ganforge.studio import serve

    serve(args.runs, host=args.host, port=args.port, open_browser=args.open)
    return 0


def _print_rows(rows: list[tuple[str, str]]) -> int:
    width = max(len(n) for n, _ in rows)
    for name, desc in rows:
        print(f"{name:{width}s}  {desc}")
    return 0


def _presets(args: argparse.Namespace) -> int:
    return _print_rows(list_presets())


def _datasets(args: argparse.Namespace) -> int:
    return _print_rows(describe_datasets())


def _plugins(args: argparse.Namespace) -> int:
    rows = [(f"modality {n}", m.description) for n, m in MODALITIES.items()]
    rows += [(f"dataset {s.shown}", f"({s.modality}) {s.description}") for _, s in DATASETS.items()]
    rows += [(f"arch {n}", a.description) for n, a in ARCHITECTURES.items()]
    rows += [(f"metric {n}", m.description) for n, m in METRICS.items()]
    rows += [(f"loss {n}", "") for n in LOSSES]
    rows += [("loaded from", ", ".join(loaded()))]
    return _print_rows(rows)


def _config(args: argparse.Namespace) -> int:
    if args.keys and args.config is None:
        print("\n".join(config_mod.all_keys()))
        return 0
    cfg = config_mod.resolve(args.config or "demo", args.overrides)
    if args.keys:  # only the keys this preset's parts read, with its values
        print("\n".join(shown_rows(cfg)))
        return 0
    print(config_mod.dump(cfg), end="")
    return 0


def _export(args: argparse.Namespace) -> int:
    print(export_run(args.run))
    return 0


COMMANDS = {
    "train": _train,
    "sample": _sample,
    "interpolate": _interpolate,
    "eval": _eval,
    "augment": _augment,
    "features": _features,
    "studio": _studio,
    "export": _export,
    "presets": _presets,
    "datasets": _datasets,
    "plugins": _plugins,
    "config": _config,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ganforge`` console script; returns the exit code."""
    try:
        try:
            args = build_parser().parse_args(argv)
            return COMMANDS[args.command](args)
        finally:
            sys.stdout.flush()  # a reader that went away shows here, not at exit
    except GanforgeError as exc:
        print(f"ganforge: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("ganforge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `ganforge presets | head`: quiet, with SIGPIPE's exit code
        with contextlib.suppress(OSError, ValueError):  # Python's recipe (not when captured)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
