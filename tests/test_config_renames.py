"""Renamed config keys: one key per idea, old spellings still load (one line says the new
one), and a run recorded under the old spellings resumes exactly."""

from __future__ import annotations

import pytest
import torch
import yaml

import ganforge
from ganforge import config as cfgmod
from ganforge.config import renames
from ganforge.engine import checkpoint as ckpt
from ganforge.errors import ConfigError


@pytest.fixture(autouse=True)
def _fresh_lines(monkeypatch):
    monkeypatch.setattr(renames, "_said", set())


def test_one_key_for_samples_per_picture_and_for_the_holdout():
    keys = set(cfgmod.all_keys())
    assert {"log.samples", "data.holdout"} <= keys
    old = set(renames.RENAMED)
    assert not keys & old, keys & old
    cfg = cfgmod.resolve("demo")
    assert cfg.log.samples is None and cfg.data.holdout is None
    with pytest.raises(ConfigError, match="data.holdout must be >= 0 and <= 0.9"):
        cfgmod.resolve("demo", ["data.holdout=0.95"])


def test_old_spellings_load_as_the_new_key_with_one_line(capsys):
    older_run = {  # what an older version wrote for a text run: every key of both sections
        "log": {"every": 50, "n_samples": 64},
        "data": {"spec": "wordnet"},
        "text": {"length": 32, "holdout": 0.25, "samples": 100},
    }
    cfg = cfgmod.from_dict(older_run)
    assert (cfg.log.samples, cfg.data.holdout, cfg.text.length) == (100, 0.25, 32)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "text.samples -> log.samples" in err[0]
    assert "text.holdout -> data.holdout" in err[0] and "log.n_samples -> log.samples" in err[0]
    cfgmod.from_dict(older_run)  # the same keys again: said once per process
    assert capsys.readouterr().err == ""


def test_an_old_key_at_its_old_default_means_the_modality_default():
    # an older points run recorded log.n_samples 4 (the trainer's batch) and points.samples
    # 2500 (its picture): the picture stays the modality's 2500
    cfg = cfgmod.from_dict({"log": {"n_samples": 4}, "points": {"samples": 2500}})
    assert cfg.log.samples is None
    points = ganforge.registry.MODALITIES.get("points")
    assert points.picture_count(cfg) == 2500
    cfg = cfgmod.from_dict({"log": {"n_samples": 16}})  # an image run's own number
    assert cfg.log.samples == 16
    table = ganforge.registry.MODALITIES.get("tabular")
    cfg = cfgmod.from_dict({"tabular": {"holdout": 0.2, "rows": 300}})
    assert (table.holdout(cfg), table.picture_count(cfg)) == (0.2, 300)
    assert cfg.data.holdout is None


def test_the_new_spelling_wins_and_set_takes_the_old_one(capsys):
    cfg = cfgmod.from_dict({"log": {"samples": 9}, "video": {"samples": 3}})
    assert cfg.log.samples == 9
    cfg = cfgmod.resolve("demo", ["music.holdout=0"])
    assert cfg.data.holdout == 0.0
    assert "music.holdout -> data.holdout" in capsys.readouterr().err


def test_a_run_recorded_with_the_old_spellings_resumes_exactly(tmp_path, fast, capsys):
    over = fast + ["train.batch=32", "log.samples=50", "log.pictures=false"]
    over += ["log.checkpoint_every=3", "model.g_width=16", "model.d_width=16"]
    ganforge.train("toy-ring8", out=tmp_path / "straight", steps=6, overrides=over)
    ganforge.train("toy-ring8", out=tmp_path / "split", steps=3, overrides=over)
    path = tmp_path / "split" / "config.yaml"
    data = yaml.safe_load(path.read_text())
    data["log"]["n_samples"] = 64  # as an older version wrote it
    data["points"] = {"samples": data["log"].pop("samples")}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    res = ganforge.train(None, out=tmp_path / "split", steps=6, resume=True)
    assert res.step == 6
    assert "points.samples -> log.samples" in capsys.readouterr().err
    a, _, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "straight" / "checkpoints"))
    b, _, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "split" / "checkpoints"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert ganforge.load_run(tmp_path / "split").config.log.samples == 50


def test_a_holdout_on_data_that_keeps_none_is_refused(tmp_path, fast):
    with pytest.raises(ConfigError, match="data.holdout: points data keeps no held-out share"):
        over = fast + ["data.holdout=0.1"]
        ganforge.train("toy-ring8", out=tmp_path / "r", steps=1, overrides=over)
