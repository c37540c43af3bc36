"""How far one analysis has got, shown on stderr while it runs (``analyze``, ``record --analyze``).

The pipeline reports ``progress(stage, done_s, total_s)``
(:data:`speechcoach.analysis.pipeline.Progress`); :class:`AnalysisProgress` is such a callback.
Nothing is shown for an analysis that ends within :data:`SHOW_AFTER_S` (a scripted analysis, or a
short recording); a longer one gets a transient rich line on a terminal: the stage, a bar, the
seconds of audio done out of the recording's length, and the time taken so far. On stderr that
is not a terminal (a log file, CI) nothing is shown. The words follow the run's language
(``[cli] progress_*`` in ``locales/*.toml``).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

SHOW_AFTER_S = 2.0
"""An analysis still running this long after it started (s) shows its progress; the issue's
"longer than about 2 s": a scripted analysis of a two-minute recording ends well within it."""

STAGES = ("load", "sound", "model", "recognise", "findings")
"""The stages the pipeline names (:func:`speechcoach.analysis.pipeline.analyze_audio`)."""


class AnalysisProgress:
    """A progress callback for one analysis that shows itself on stderr after :data:`SHOW_AFTER_S`.

    Use as a context manager (the line is removed on exit)::

        with AnalysisProgress("en") as progress:
            analyze_file(path, progress=progress)

    Parameters
    ----------
    lang : str
        The run's language (``zh`` or ``en``).
    console : rich.console.Console, optional
        Where to draw (default: stderr when it is a terminal; otherwise nothing is drawn).
    show_after_s : float, keyword-only
        Delay before the line appears (s).
    """

    def __init__(self, lang: str, console: Any = None, *, show_after_s: float = SHOW_AFTER_S) -> None:
        from ..locales import strings

        words = strings(lang)["cli"]
        self._labels = {stage: words[f"progress_{stage}"] for stage in STAGES}
        self._audio = words["progress_audio"]
        if console is None and sys.stderr.isatty():
            from rich.console import Console

            console = Console(stderr=True)
        self._console = console
        self._lock = threading.Lock()
        self._state: tuple[str, float, float] = ("load", 0.0, 0.0)
        self._bar: Any = None
        self._task: Any = None
        self._timer: threading.Timer | None = None
        self._started = time.monotonic()
        self._closed = False
        self.shown = False
        """Whether the line was drawn (an analysis that outlasted ``show_after_s``)."""
        if console is not None:
            self._timer = threading.Timer(show_after_s, self._show)
            self._timer.daemon = True
            self._timer.start()

    def __enter__(self) -> AnalysisProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, stage: str, done_s: float, total_s: float) -> None:
        """Record how far the analysis has got (and redraw, once shown)."""
        with self._lock:
            self._state = (stage, float(done_s), float(total_s))
            if self._bar is not None:
                self._bar.update(self._task, **self._fields())

    def _fields(self) -> dict[str, Any]:
        stage, done, total = self._state
        return {
            "description": self._labels.get(stage, stage),
            "completed": done,
            "total": total if total > 0 else None,
            "audio": self._audio.format(done=done, total=total) if total > 0 else "",
        }

    def _show(self) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._closed:
                return
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[audio]}"),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            fields = self._fields()
            self._task = self._bar.add_task(fields.pop("description"), **fields)
            self._bar.start()
            self.shown = True

    def close(self) -> None:
        """Stop the timer and remove the line (idempotent)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
