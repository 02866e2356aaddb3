"""Errors that are the user's to fix: the CLI prints them as one line and exits with code 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option a typo most likely meant, or None when none is close enough to offer
    (difflib ratio 0.6: 'sed' finds 'seed', 'nosuchpreset' finds nothing)."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


def needs_extra(what: str, extra: str) -> str:
    """The one line for an optional package that is not installed: ``what`` needs it, and
    the command that installs ganforge's extra holding it."""
    return f"{what}: pip install 'ganforge[{extra}]'"


class GanforgeError(Exception):
    """A problem with the user's input (config, data, run directory), not a bug in ganforge.

    The message is one line that says what is wrong and what to do about it.
    """


class ConfigError(GanforgeError):
    """A bad config key, value, preset name or command-line override."""


class DataError(GanforgeError):
    """A dataset that cannot be found, read or used."""


class RunError(GanforgeError):
    """A run directory that is missing, incomplete or in use."""


class TrainingError(GanforgeError):
    """Training cannot go on (for example a non-finite loss)."""
