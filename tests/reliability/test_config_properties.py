"""Property tests of the config schema: any ``--set key=value`` gives a valid Config or a
one-line ConfigError naming the key - never another exception, in the API or the CLI.

``EXAMPLES`` examples per property (``PROPERTIES`` properties).
"""

from __future__ import annotations

import math
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganforge import cli
from ganforge import config as config_mod
from ganforge.config import Config
from ganforge.config.renames import RENAMED
from ganforge.errors import ConfigError

EXAMPLES = 150
PROPERTIES = 6  # the @given tests below (quoted in the README with EXAMPLES)
KEYS = config_mod.all_keys()
MOVED = set(RENAMED)  # old spellings: read under their new names, so not unknown
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ----------------------------------------------------------------------------- strategies

SPECIAL_FLOATS = [
    math.nan,
    math.inf,
    -math.inf,
    -0.0,
    0.0,
    1e308,
    -1e308,
    5e-324,
    1e-308,
    0.5,
    0.999,
    1.0,
    2e-4,
]
SPECIAL_INTS = [0, 1, -1, 2, 3, 4, 64, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), 10**400]
# spellings a person (or YAML 1.1) may use: none of them may escape as another exception
TOKENS = [
    "",
    " ",
    "~",
    "null",
    "None",
    "true",
    "False",
    "yes",
    "off",
    ".nan",
    ".inf",
    "-.inf",
    "nan",
    "inf",
    "1e309",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "1:30",
    "190:20:30",
    "2001-12-14",
    "2001-13-45",
    "2001-12-14t21:59:43.10-05:00",
    "[",
    "]",
    "{",
    "{a: 1}",
    "[0.5, 0.999]",
    "[[0.5], 0.9]",
    "0.5,0.999",
    ",",
    "[,]",
    "&a [*a]",
    "&a [*a, *a]",
    "!!int abc",
    "!!float abc",
    "!!timestamp xyz",
    "!!binary ###",
    "!!python/object/apply:os.getcwd []",
    "!!set {a}",
    "? a",
    "%YAML 1.1",
    "---",
    "...",
    "|",
    ">",
    "@x",
    "`x",
    "'",
    '"',
    "#comment",
    "a\nb",
    "a\x00b",
    "\ud800",
    "\udcff",
    "é",
    "[" * 3000,
    "[" * 3000 + "]" * 3000,
    "1" * 5000,
    "1." + "1" * 5000,
    "nonsaturating",
    "dcgan",
    "simultaneous",
    "r1",
    "cuda",
    "bf16",
]

ints = st.one_of(st.integers(), st.integers(-(2**70), 2**70), st.sampled_from(SPECIAL_INTS))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(SPECIAL_FLOATS))
scalars = st.one_of(ints, floats, st.booleans(), st.text(max_size=20), st.none())
any_text = st.text(alphabet=st.characters(codec=None), max_size=40)  # surrogates too


def _yaml_text(value) -> str:
    """How YAML writes ``value`` on one line (``.nan``, ``[1, a]``, ``'x: y'``, ...)."""
    out = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
    return out[: -len("...")].strip() if out.endswith("...") else out


values = st.one_of(
    any_text,
    st.sampled_from(TOKENS),
    scalars.map(str),  # Python spelling: nan, inf, True, None, -0.0, 1e+308
    scalars.map(_yaml_text),
    st.lists(scalars, max_size=4).map(str),
    st.lists(scalars, max_size=4).map(_yaml_text),
    st.lists(scalars, max_size=4).map(lambda xs: ",".join(map(str, xs))),
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=3).map(" ".join),
)
unknown_keys = st.one_of(
    any_text,
    st.from_regex(r"[a-z_]{1,8}(\.[a-z_]{1,12}){0,3}", fullmatch=True),
    st.sampled_from(KEYS).map(lambda k: k + "x"),
    st.sampled_from(KEYS).map(lambda k: k.upper()),
    st.sampled_from(["lr", "batch_size", "epochs", "beta1", "dataset", "train", "optim.betas.0"]),
).filter(lambda k: "=" not in k and k.strip() not in KEYS and k.strip() not in MOVED)


# ----------------------------------------------------------------------------- checks


def _get(cfg: Config, key: str):
    node = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _check_error(exc: ConfigError, *keys: str) -> None:
    msg = str(exc)
    assert msg and "\n" not in msg and "\r" not in msg, repr(msg)
    assert any(k in msg for k in keys), (keys, msg)


def _check_config(cfg: Config) -> None:
    """A valid config survives being written to a run directory and read back."""
    assert isinstance(cfg, Config)
    config_mod.validate(cfg)
    again = config_mod.from_dict(yaml.safe_load(config_mod.dump(cfg)))
    assert again == cfg


def _outcome(overrides: list[str], keys: list[str]) -> Config | None:
    try:
        cfg = config_mod.resolve("demo", overrides)
    except ConfigError as exc:
        _check_error(exc, *keys)
        return None
    _check_config(cfg)
    return cfg


# ----------------------------------------------------------------------------- properties


@SETTINGS
@given(key=st.sampled_from(KEYS), value=values)
def test_any_value_for_any_key(key, value):
    _outcome([f"{key}={value}"], [key])


@SETTINGS
@given(key=st.sampled_from(KEYS), value=st.one_of(ints, floats, st.booleans()))
def test_numbers_land_in_range_or_are_refused(key, value):
    """Numbers are kept exactly (ints and floats alike) when the key accepts them."""
    cfg = _outcome([f"{key}={value}"], [key])
    if cfg is None:
        return
    got = _get(cfg, key)
    tp = type(got)
    if tp is float and not isinstance(value, bool):
        assert math.isfinite(got) and got == float(value)
    elif tp is int and not isinstance(got, bool):
        assert got == value and abs(got) < 2**63


@SETTINGS
@given(
    pairs=st.lists(st.tuples(st.sampled_from(KEYS), values), min_size=2, max_size=5),
)
def test_several_overrides(pairs):
    """Later overrides win; an error names one of the keys given."""
    _outcome([f"{k}={v}" for k, v in pairs], [k for k, _ in pairs] + ["train.step", "loss."])


@SETTINGS
@given(key=unknown_keys, value=values)
def test_unknown_keys_are_refused(key, value):
    try:
        config_mod.resolve("demo", [f"{key}={value}"])
    except ConfigError as exc:
        msg = str(exc)
        assert "unknown config key" in msg and "\n" not in msg and "\r" not in msg, repr(msg)
    else:
        raise AssertionError(f"unknown key {key!r} was accepted")


@SETTINGS
@given(key=st.one_of(st.sampled_from(KEYS), unknown_keys), value=values)
def test_cli_config_exits_0_or_2(capsys, key, value):
    capsys.readouterr()
    code = cli.main(["config", "demo", f"--set={key}={value}"])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    if code == 0:
        assert err == ""
        _check_config(config_mod.from_dict(yaml.safe_load(out)))
    else:
        assert out == ""
        assert err.startswith("ganforge: error: ") and err.count("\n") == 1, repr(err)


# a YAML config file: sections of keys, some right, some wrong, some nonsense
yaml_leaf = st.one_of(scalars, st.lists(scalars, max_size=3), st.sampled_from(TOKENS[:40]))
yaml_keys = st.one_of(
    st.sampled_from([k.split(".")[-1] for k in KEYS]), st.text(string.ascii_lowercase, max_size=6)
)
yaml_docs = st.one_of(
    st.dictionaries(
        st.sampled_from(["data", "model", "loss", "optim", "train", "log", "guard", "x"]),
        st.one_of(st.dictionaries(yaml_keys, yaml_leaf, max_size=4), yaml_leaf),
        max_size=4,
    ),
    yaml_leaf,
)


@SETTINGS
@given(doc=yaml_docs, raw=st.one_of(st.none(), values))
def test_config_files(tmp_path, doc, raw):
    """A config file of any shape: a Config or a one-line ConfigError naming the file or key."""
    path = tmp_path / "cfg.yaml"
    if raw is None:
        path.write_text(yaml.safe_dump(doc))
    else:  # not necessarily YAML at all
        path.write_bytes(raw.encode("utf-8", "surrogatepass"))
    try:
        cfg = config_mod.resolve(str(path))
    except ConfigError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and "\r" not in msg, repr(msg)
        return
    _check_config(cfg)


# ----------------------------------------------------------------------- fixed examples
# Inputs that make a plain YAML / float() parse raise OverflowError / ValueError /
# RecursionError / AttributeError (or pass ints beyond int64): each must end as a config
# or a one-line error.

FOUND = [
    ("optim.g_lr", "1" + "0" * 400),  # int too large for float()
    ("optim.betas", "[0.5, 1" + "0" * 400 + "]"),
    ("train.steps", str(2**63)),  # beyond int64: refused like 9.3e18 already was
    ("train.batch", "1" + "0" * 30),
    ("train.steps", "1" * 5000),  # PyYAML's int() hits Python's 4300-digit limit
    ("data.spec", "1" * 5000),
    ("data.spec", "2001-13-45"),  # PyYAML's date constructor: month must be in 1..12
    ("train.seed", "!!int abc"),
    ("optim.eps", "!!float abc"),
    ("description", "!!timestamp xyz"),  # AttributeError inside PyYAML
    ("optim.betas", "[" * 3000),  # RecursionError inside PyYAML
]


def test_found_bugs_stay_fixed(capsys):
    for key, value in FOUND:
        _outcome([f"{key}={value}"], [key])
        assert cli.main(["config", "demo", f"--set={key}={value}"]) in (0, 2)
    capsys.readouterr()
    with pytest.raises(ConfigError) as err:  # an unknown key's newline is shown escaped
        config_mod.resolve("demo", ["train.batch\nlog.every=5"])
    assert "unknown config key 'train.batch\\nlog.every'" in str(err.value)


def test_found_file_bugs_stay_fixed(tmp_path):
    cases = {
        "binary.yaml": b"\x80\x04\x95 not text",  # UnicodeDecodeError
        "date.yaml": b"train:\n  steps: 2001-13-45\n",
        "digits.yaml": b"train:\n  steps: " + b"1" * 5000 + b"\n",
        "deep.yaml": b"train:\n  steps: " + b"[" * 3000 + b"\n",
    }
    for name, raw in cases.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(ConfigError, match=name) as err:
            config_mod.resolve(str(tmp_path / name))
        assert "\n" not in str(err.value)
