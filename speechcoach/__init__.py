"""speechcoach: an offline speech-delivery coach for Mandarin.

The package is layered; each layer imports only the ones below it (checked by
``tests/test_layers.py``):

- :mod:`speechcoach.app` — front ends: the command line (the only module that prints or exits),
  batch runs, the CI gate, the practice server, the recorder;
- :mod:`speechcoach.render` — the JSON report (:mod:`~speechcoach.render.report`) and its
  text, Markdown, HTML, Praat and Audacity renderings;
- :mod:`speechcoach.analysis` — the analysis, a pure function of (signal, rate, script,
  settings): features → segmentation → syllables → alignment/placement → metrics → findings,
  tied together by :mod:`~speechcoach.analysis.pipeline`;
- :mod:`speechcoach.precise` — precise mode: the offline speech recogniser and its word lists;
- foundations: :mod:`~speechcoach.audio` (the only module that reads audio files),
  :mod:`~speechcoach.characters`, :mod:`~speechcoach.settings`, :mod:`~speechcoach.fileio`,
  :mod:`~speechcoach.errors`, :mod:`~speechcoach.tomlfile`, :mod:`~speechcoach.guidance`,
  :mod:`~speechcoach.locales`.

``speechcoach.analyze_file(path, script=...)`` and ``speechcoach.analyze_signal(y, sr, ...)``
are the analysis's entry points; ``docs/architecture.md`` maps every module.
"""

from typing import Any

__version__ = "0.1.0"
SCHEMA = "speechcoach.report/1"

__all__ = ["SCHEMA", "__version__", "analyze_file", "analyze_signal"]


def __getattr__(name: str) -> Any:
    """``analyze_file`` and ``analyze_signal``, imported on first use so that ``import
    speechcoach`` (and the command line's start-up) stays light."""
    if name in ("analyze_file", "analyze_signal"):
        from .analysis import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'speechcoach' has no attribute {name!r}")
