"""The exception hierarchy.

Every error speechcoach raises on purpose derives from :class:`SpeechcoachError` and carries a
one-line message; the command line prints it and exits with :attr:`SpeechcoachError.exit_code`.
"""

from __future__ import annotations

from pathlib import Path


class SpeechcoachError(Exception):
    """Base class. ``str(err)`` is a single line fit for a terminal."""

    exit_code: int = 2


class ParameterError(SpeechcoachError, ValueError):
    """A setting or argument is out of range; the message quotes the bad value."""


class InputError(SpeechcoachError):
    """A file given by the user cannot be used.

    Parameters
    ----------
    path : path-like
        The offending file; it is named first in the message.
    problem : str
        What is wrong with it, in a few words.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(f"{self.path}: {self.problem}")


class AudioError(InputError):
    """The audio file is missing, unreadable, corrupt or holds no usable speech."""


class ScriptError(InputError):
    """The script file is missing, not UTF-8 text, or has nothing to speak."""


class RubricError(InputError):
    """The rubric/settings TOML file is missing or invalid."""
