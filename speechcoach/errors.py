"""The exception hierarchy.

Every error speechcoach raises on purpose derives from :class:`SpeechcoachError` and carries a
one-line message; the command line prints it and exits with :attr:`SpeechcoachError.exit_code`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class SpeechcoachError(Exception):
    """Base class. ``str(err)`` is a single line fit for a terminal, in English.

    An error that carries a ``code`` (and ``params``) attribute naming a template of the
    ``[errors]`` table of ``locales/*.toml`` is worded in the run's language by the command line
    (:func:`speechcoach.locales.error_text`); one without stays English.
    """

    exit_code: int = 2


class ParameterError(SpeechcoachError, ValueError):
    """A setting or argument is out of range; the message quotes the bad value.

    Parameters
    ----------
    message : str
        One line naming the setting and quoting the bad value.
    key : str, keyword-only, optional
        The setting's name (a :class:`~speechcoach.settings.Settings` field) when one setting
        is at fault, so a caller can name it the way the user wrote it (rubric key or flag).
    problem : str, keyword-only, optional
        ``message`` without the setting's name (``"must be …, got …"``).
    code : str, keyword-only, optional
        The template of the ``[errors]`` table that words the whole ``message`` in the run's
        language (for the few a trainee meets: a port in use); without one it stays English.
    params : dict, keyword-only, optional
        The values the template takes.
    """

    def __init__(
        self, message: str, *, key: str | None = None, problem: str | None = None, code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.key = key
        self.problem = problem
        self.code = code
        self.params: dict[str, Any] = dict(params or {})

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_parameter, (type(self), str(self), self.key, self.problem, self.code, self.params))


def _rebuild_parameter(
    cls: type[ParameterError], message: str, key: str | None, problem: str | None, code: str | None = None,
    params: dict[str, Any] | None = None,
) -> ParameterError:
    return cls(message, key=key, problem=problem, code=code, params=params)


class InputError(SpeechcoachError):
    """A file given by the user cannot be used.

    Parameters
    ----------
    path : path-like
        The offending file; it is named first in the message.
    problem : str
        What is wrong with it, in a few words (English; ``str(err)`` is ``"PATH: problem"``).
    code : str, keyword-only, optional
        A stable identifier of the problem (``"not_audio"``, ``"too_short"``, …) naming its
        template in the ``[errors]`` table of ``locales/*.toml``, so the problem can be shown
        in the report language (:func:`speechcoach.locales.error_text`).
    params : dict, keyword-only, optional
        The values the message uses (numbers as numbers), for the template.
    """

    def __init__(self, path: str | Path, problem: str, *, code: str | None = None, params: dict[str, Any] | None = None) -> None:
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # always one line
        self.code = code
        self.params: dict[str, Any] = dict(params or {})
        super().__init__(f"{self.path}: {self.problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only fields survive pickling (worker processes)
        return (_rebuild, (type(self), self.path, self.problem, self.code, self.params))


def _rebuild(cls: type[InputError], path: str, problem: str, code: str | None, params: dict[str, Any]) -> InputError:
    return cls(path, problem, code=code, params=params)


class AudioError(InputError):
    """The audio file is missing, unreadable, corrupt or holds no usable speech."""


class ScriptError(InputError):
    """The script file is missing, not text (UTF-8, UTF-16 or GB18030), or has nothing to speak."""


class RubricError(InputError):
    """The rubric/settings TOML file is missing or invalid."""


class OutputError(InputError):
    """A file speechcoach was asked to write cannot be written: a folder is in its place, its
    folder is read-only, the disk is full. The message names the file asked for."""
