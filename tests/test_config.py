"""Config: presets, overrides, validation and their one-line errors."""

import pytest

from ganforge import config as cfgmod
from ganforge.errors import ConfigError


def test_every_preset_resolves():
    names = [n for n, _ in cfgmod.list_presets()]
    assert {"seed", "demo", "fashion-mnist", "toy-ring8", "toy-grid25", "folder-rgb"} <= set(names)
    for name in names:
        cfg = cfgmod.resolve(name)
        assert cfg.preset == name


def test_seed_preset_is_the_tutorial():
    c = cfgmod.resolve("seed")
    assert (c.model.arch, c.model.z_dim, c.train.batch) == ("dcgan-tf", 100, 256)
    assert c.optim.g_lr == c.optim.d_lr == 1e-4
    assert c.optim.betas == (0.9, 0.999) and c.optim.eps == 1e-7
    assert c.train.step == "simultaneous" and c.loss.type == "nonsaturating"
    assert (c.model.leaky_slope, c.model.bn_eps, c.model.bn_momentum) == (0.3, 1e-3, 0.01)
    assert c.model.init == "glorot"


def test_overrides_are_typed():
    c = cfgmod.resolve(
        "demo",
        [
            "train.batch=32",
            "optim.g_lr=1e-3",
            "optim.betas=0.0,0.9",
            "data.conditional=true",
            "model.g_width=none",
        ],
    )
    assert c.train.batch == 32 and c.optim.g_lr == 1e-3 and c.optim.betas == (0.0, 0.9)
    assert c.data.conditional is True and c.model.g_width is None


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.bach=3", "unknown config key 'train.bach' (did you mean 'train.batch'?)"),
        ("train.batch=abc", "train.batch must be a whole number"),
        ("train.batch=-1", "train.batch must be >= 1"),
        ("optim.g_lr=0", "optim.g_lr must be > 0"),
        ("optim.d_lr=nan", "optim.d_lr must be a finite number"),
        ("loss.type=hinj", "did you mean 'hinge'"),
        ("train.batch", "--set expects key=value"),
        ("data.conditional=maybe", "data.conditional must be true or false"),
        ("optim.betas=0.5", "optim.betas must be a list of 2 numbers"),
    ],
)
def test_bad_overrides_give_one_line(override, message):
    with pytest.raises(ConfigError) as info:
        cfgmod.resolve("demo", [override])
    text = str(info.value)
    assert message in text and "\n" not in text


def test_unknown_preset_suggests():
    with pytest.raises(ConfigError, match="unknown preset 'sed' .did you mean 'seed'"):
        cfgmod.resolve("sed")
    # a name like none of them gets the list, not a far-fetched guess
    with pytest.raises(ConfigError, match="unknown preset 'nosuchpreset'; available") as err:
        cfgmod.resolve("nosuchpreset")
    assert "did you mean" not in str(err.value)


def test_yaml_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        cfgmod.resolve(str(bad))
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("trian:\n  batch: 3\n")
    with pytest.raises(ConfigError, match="did you mean 'train'"):
        cfgmod.resolve(str(unknown))
    evil = tmp_path / "evil.yaml"
    evil.write_text("train: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(ConfigError):
        cfgmod.resolve(str(evil))
    assert not (tmp_path / "pwned").exists()


def test_simultaneous_needs_one_critic_step():
    with pytest.raises(ConfigError, match="n_critic must be 1"):
        cfgmod.resolve("seed", ["train.n_critic=5"])


def test_dump_round_trips():
    c = cfgmod.resolve("seed")
    import yaml

    again = cfgmod.from_dict(yaml.safe_load(cfgmod.dump(c)))
    assert again == c


@pytest.mark.parametrize(
    "override, hint",
    [
        ("train.lr=1", "optim.g_lr and optim.d_lr"),
        ("model.batch=8", "'train.batch'"),
        ("train.batch_size=8", "train.batch"),
    ],
)
def test_keys_from_other_tools_get_pointed_to_ours(override, hint):
    with pytest.raises(ConfigError, match=hint):
        cfgmod.resolve("demo", [override])
