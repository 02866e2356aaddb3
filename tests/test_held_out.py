"""The one place a held-out split is rebuilt: the settings a modality declares, read back
from a run's info or its config, and the reference built once per settings."""

from __future__ import annotations

import pytest

from ganforge.data.held_out import Memo, References, SplitSettings
from ganforge.modalities.music.datasets import split_settings as music_split
from ganforge.modalities.text.datasets import split_settings as text_split
from ganforge.modalities.video.datasets import split_settings as video_split


def completed(settings: dict) -> dict:
    settings["width"] = settings["width"] or len(settings["source"][1])
    return settings


SPLIT = SplitSettings("demo", {"width": 0, "holdout": 0.1}, {"share": "holdout"}, completed)


class Loader:
    """A modality's ``data_arguments``: a loader option (``tempo``) no split depends on."""

    def data_arguments(self, cfg):
        return "demo", "abc", 7, {"share": 0.3, "tempo": 90}


def test_settings_take_defaults_renamed_options_and_completed_values():
    assert SPLIT("demo", "abcd", 3) == {
        "source": ["demo", "abcd"],
        "seed": 3,
        "width": 4,
        "holdout": 0.1,
    }
    assert SPLIT("demo", "", share=0.5, width=2)["holdout"] == 0.5
    with pytest.raises(TypeError, match="tempo"):
        SPLIT("demo", "", tempo=90)
    from_config = SPLIT.of_config(Loader(), cfg=None)
    assert from_config == {"source": ["demo", "abc"], "seed": 7, "width": 3, "holdout": 0.3}
    info = {"demo": {**from_config, "vocab": ["a"]}, "notes": []}
    assert SPLIT.of_info(info) == from_config


def test_a_reference_is_built_once_per_settings_and_keeps_what_it_learns():
    built = []

    class Reference(Memo):
        def __init__(self, settings):
            built.append(settings)
            self.settings = settings

    refs = References(SPLIT, Reference)
    a = refs.of_info({"demo": {**SPLIT("demo", "abc", 7, share=0.3), "extra": 1}})
    assert refs.of_config(Loader(), cfg=None) is a and len(built) == 1
    assert refs.of_settings(SPLIT("demo", "abc", 8)) is not a and len(built) == 2
    learned = []
    for _ in range(2):
        a.memo("net", lambda: learned.append(1) or "weights")
    assert a.memo("net", list) == "weights" and learned == [1]


def test_the_built_in_splits_keep_their_recorded_keys():
    assert text_split.keys == (
        "source",
        "seed",
        "length",
        "split",
        "holdout",
        "max_samples",
        "max_vocab",
    )
    assert music_split("midi", "x", 1, bars=2)["bars"] == 2
    grey = video_split("moving-mnist", "", 0, source="fashion")
    assert grey["channels"] == 1 and grey["digits"] == "fashion"
    assert video_split("shapes-motion", "")["channels"] == 3
