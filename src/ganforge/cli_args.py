"""The ``ganforge`` command's arguments: every subcommand and its options."""

from __future__ import annotations

import argparse

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports mistakes as one line and exit code 2 (as argparse does)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"ganforge: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ganforge", description="Train and use Generative Adversarial Networks.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser(
        "train",
        help="train a GAN into a run directory",
        epilog="Several processes or machines: torchrun --nproc_per_node=N -m ganforge train "
        "... (DistributedDataParallel; train.batch is the global batch). Speed settings: "
        "train.precision, train.channels_last, train.spectral_conv, train.gemm_grad and "
        "train.fused_adam "
        "(auto picks per "
        "device); train.shared_backward (the simultaneous step; true by default).",
    )
    t.add_argument(
        "config",
        nargs="?",
        help="preset name or CONFIG.yaml (default: the preset for --data's kind of data, "
        "else demo)",
    )
    t.add_argument("--data", help="dataset spec (toy:ring8, folder:PATH) or a path, its kind "
                   "read from its files (./photos, ./table.csv, ./songs/, ./corpus.txt, ./clips/)")
    t.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value (repeatable), e.g. --set train.batch=128",
    )
    t.add_argument("--out", help="run directory (default runs/PRESET-TIMESTAMP)")
    t.add_argument("--steps", type=int, help="generator steps in total")
    t.add_argument("--resume", action="store_true", help="continue the run in --out")
    t.add_argument("--init-from", metavar="RUN", help="start from RUN's G, D and EMA weights")
    t.add_argument("--init-optimizer", action="store_true", help="with --init-from: its Adam too")
    t.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("run", help="run directory")
    s.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    s.add_argument("--out", help="FILE.png (picture), FILE.npy / FILE.csv (data) or a folder")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--label", help="class to draw, by id or name (conditional runs)")
    s.add_argument(
        "--condition",
        action="append",
        metavar="COLUMN=VALUE",
        help="tables: every row holds this value of a categorical column, e.g. cut=Ideal "
        "(repeatable: rows holding every one)",
    )
    s.add_argument(
        "--temperature",
        type=float,
        help="text: sampling temperature (0: the most likely character; 1: as learned)",
    )
    s.add_argument(
        "--hold",
        type=float,
        help="music voices: keep a pitch unless another's logit beats it by more than this "
        "(longer notes as it rises; default: the run's arch.hold)",
    )
    s.add_argument(
        "--upsample",
        help="layered video runs with arch.supersample: nearest (as trained) or bilinear "
        "(sprites drawn smooth at every half-pixel place)",
    )
    s.add_argument(
        "--best", action="store_true", help="the best checkpoint by eval.metric (eval.every)"
    )

    i = sub.add_parser(
        "interpolate", help="latent-space walk (slerp) as a GIF, or as data (e.g. a MIDI walk)"
    )
    i.add_argument("run", help="run directory")
    i.add_argument("--frames", type=int, default=48)
    i.add_argument(
        "--out",
        help="FILE.gif (default RUN/interpolation.gif), or a data file of the modality: "
        "the walk of the first sample, frame after frame (walk.mid for music)",
    )
    i.add_argument("--seed", type=int, default=0)
    i.add_argument(
        "--keep",
        default="",
        metavar="PART[,PART]",
        help="structured latents: parts held fixed while the rest walks (e.g. motion)",
    )
    i.add_argument(
        "--best", action="store_true", help="the best checkpoint by eval.metric (eval.every)"
    )

    a = sub.add_parser("augment", help="a labelled synthetic data set from a conditional run")
    a.add_argument("run", help="run directory (trained with data.conditional=true)")
    a.add_argument("--per-class", type=int, required=True, help="samples per class")
    a.add_argument("--out", required=True, help="new folder: one subfolder per class")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--truncation", type=float, help="truncated latents (e.g. 1.5)")
    a.add_argument(
        "--filter",
        type=float,
        metavar="P",
        help="keep samples the dataset classifier gives their class with probability >= P",
    )
    a.add_argument("--expand", type=float, default=1.0, metavar="S", help="latents times S")
    a.add_argument(
        "--snapshots",
        type=int,
        default=1,
        metavar="K",
        help="an equal share from each of the run's last K kept checkpoints",
    )

    e = sub.add_parser("eval", help="score a run against real data (writes eval.json, report)")
    e.add_argument("run", help="run directory")
    e.add_argument("--metrics", help="comma-separated: fid,kid,pr,dc,is,classes,swd (default all)")
    e.add_argument("--n", type=int, default=10000, help="generated samples (default 10000)")
    e.add_argument("--inception-weights", help="pt_inception-2015-12-05 weights for Inception FID")
    e.add_argument("--i3d-weights", help="Kinetics-400 RGB I3D state_dict for standard FVD (video)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--json", action="store_true", help="print the result as JSON")
    e.add_argument(
        "--best", action="store_true", help="the best checkpoint by eval.metric (eval.every)"
    )

    f = sub.add_parser("features", help="feature extractors for evaluation")
    fsub = f.add_subparsers(dest="features_command", required=True, parser_class=_Parser)
    ft = fsub.add_parser("train", help="train a dataset's classifier CNN (reproducible)")
    ft.add_argument("dataset", help="fashion-mnist[:DIR], mnist5k or digits")
    ft.add_argument("--epochs", type=int, default=6)
    ft.add_argument("--seed", type=int, default=0)

    st = sub.add_parser("studio", help="a local web app over your runs (live game, samples)")
    st.add_argument("runs", nargs="?", default="runs", help="folder of runs (default runs)")
    st.add_argument("--port", type=int, default=8765)
    st.add_argument(
        "--host",
        default="127.0.0.1",
        help="bind address (default localhost); the printed address carries the start's token",
    )
    st.add_argument("--open", action="store_true", help="open it in a browser")

    x = sub.add_parser("export", help="a run in another tool's format")
    xs = x.add_subparsers(dest="export_format", required=True, parser_class=_Parser)
    xs.add_parser("tensorboard", help="TensorBoard event files of RUN").add_argument("run")

    sub.add_parser("presets", help="list the bundled presets")
    sub.add_parser("plugins", help="list the modalities, architectures and losses registered")
    sub.add_parser("datasets", help="list the dataset specs")
    c = sub.add_parser("config", help="print a resolved config, or the valid keys")
    c.add_argument("config", nargs="?", help="preset name or CONFIG.yaml (default: demo)")
    c.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    c.add_argument(
        "--keys",
        action="store_true",
        help="with a preset: the keys its parts read and their values; alone: every key",
    )
    return p
