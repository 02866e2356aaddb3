"""Architecture options (``arch.*``), experimental keys and ``ganforge config --keys PRESET``:
each part's keys checked against the architecture that reads them."""

from __future__ import annotations

import dataclasses

import pytest

from ganforge import config as cfgmod
from ganforge.cli import main
from ganforge.config import renames
from ganforge.errors import ConfigError
from ganforge.registry import ARCHITECTURES


@pytest.fixture(autouse=True)
def _fresh_lines(monkeypatch):
    monkeypatch.setattr(renames, "_said", set())


def test_each_architecture_declares_the_model_keys_it_reads():
    model = {f.name for f in dataclasses.fields(cfgmod.ModelConfig)}
    for name, arch in ARCHITECTURES.items():
        assert arch.model_keys, name
        assert set(arch.model_keys) <= model, name
        assert arch.options is None or dataclasses.is_dataclass(arch.options), name
    assert ARCHITECTURES.get("mlp").model_keys != ARCHITECTURES.get("resnet").model_keys
    with pytest.raises(ConfigError, match=r"model.arch=resnet does not read model.depth"):
        cfgmod.resolve("demo", ["model.arch=resnet", "model.depth=3"])


def test_arch_options_are_read_from_the_chosen_architectures_class():
    cfg = cfgmod.resolve("chorales")
    assert (cfg.arch.binarize, cfg.arch.hold, cfg.arch.key_stream) == ("voice", 0.85, True)
    cfg = cfgmod.resolve("moving-mnist", ["model.arch=layered", "arch.supersample=2"])
    assert (cfg.arch.supersample, cfg.arch.track_critic) == (2, False)
    assert cfgmod.resolve("demo").arch is None
    with pytest.raises(ConfigError, match="arch.supersample must be one of 1, 2, 4"):
        cfgmod.resolve("moving-mnist", ["model.arch=layered", "arch.supersample=3"])


@pytest.mark.parametrize(
    ("preset", "override", "message"),
    [
        (
            "moving-mnist",
            "arch.supersample=2",
            "model.arch=mocogan has no option 'arch.supersample'; it reads arch.motion_stream, "
            "arch.minibatch_std, arch.track_critic",
        ),
        ("demo", "arch.key_stream=true", "model.arch=dcgan has no option 'arch.key_stream'"),
        ("demo", "experimental.target_weight=1", "has no option 'experimental.target_weight'"),
    ],
)
def test_an_option_the_architecture_does_not_read_is_one_line(preset, override, message):
    with pytest.raises(ConfigError) as err:
        cfgmod.resolve(preset, [override])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_network_options_recorded_in_data_sections_load_as_arch_options(capsys):
    older_layered = {
        "model": {"arch": "layered"},
        "video": {"frames": 16, "supersample": 2, "track_critic": True, "upsample": "nearest"},
    }
    cfg = cfgmod.from_dict(older_layered)
    assert (cfg.arch.supersample, cfg.arch.track_critic, cfg.video.frames) == (2, True, 16)
    assert "video.track_critic -> arch.track_critic" in capsys.readouterr().err
    # a mocogan run recorded every video key, the layered ones it never read among them
    older_mocogan = {"model": {"arch": "mocogan"}, "video": {"layers": 2, "supersample": 1}}
    assert cfgmod.from_dict(older_mocogan).arch == cfgmod.resolve("moving-mnist").arch
    older_acgan = {"data": {"conditional": True}, "model": {"conditioning": "acgan"}}
    assert cfgmod.from_dict(older_acgan).experimental.acgan is True
    older_table = {"model": {"arch": "ctgan"}, "tabular": {"target_weight": 0.5}}
    assert cfgmod.from_dict(older_table).experimental.target_weight == 0.5
    assert cfgmod.from_dict({"train": {"compile": True}}).experimental.compile is True
    with pytest.raises(ConfigError, match="must be projection or acgan"):
        cfgmod.resolve("demo", ["model.conditioning=other"])


def test_config_keys_of_a_preset_lists_what_its_parts_read(capsys):
    assert main(["config", "--keys", "chorales"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert rows["arch.binarize"] == "voice" and rows["arch.key_stream"] == "true"
    assert rows["experimental.interval_stream"] == "false" and rows["music.bars"] == "4"
    assert rows["log.samples"] == "256  (unset: the music modality's default)"
    assert rows["data.holdout"] == "0.1  (unset: the music modality's default)"
    assert rows["model.g_width"] == "128" and "model.pack" not in rows  # musegan reads no pack
    assert not [k for k in rows if k.split(".")[0] in ("image", "video", "tabular", "text")]
    assert main(["config", "--keys", "toy-ring8"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert rows["model.pack"] == "null" and "data.holdout" not in rows  # points keep none
    assert rows["log.samples"] == "2500  (unset: the points modality's default)"
    assert not [k for k in rows if k.startswith(("arch.", "points.", "music."))]
    assert main(["config", "--keys", "moving-mnist"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert rows["video.augment"] == '""' and rows["arch.track_critic"] == "false"
    assert rows["log.samples"] == "8  (unset: the video modality's default)"
    assert main(["config", "--keys"]) == 0  # no preset: every key
    every = capsys.readouterr().out.split()
    assert {"arch.binarize", "arch.supersample", "image.size", "log.samples"} <= set(every)


def test_config_keys_shows_a_set_value_as_given(capsys):
    """A key set by the user is shown as set, without the modality's default beside it."""
    args = ["config", "--keys", "tabular", "--set", "log.samples=300", "--set", "data.holdout=0.3"]
    assert main(args) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert rows["log.samples"] == "300" and rows["data.holdout"] == "0.3"
    assert main(["config", "--keys", "tabular"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert rows["data.holdout"] == "0.2  (unset: the tabular modality's default)"
    assert rows["log.samples"] == "2000  (unset: the tabular modality's default)"
