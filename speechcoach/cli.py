"""The command line: the only module that prints or exits.

Heavy modules (numpy, the pipeline, renderers) are imported inside the commands, so
``speechcoach --help`` starts quickly.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import ParameterError, SpeechcoachError

app = typer.Typer(
    name="speechcoach",
    help="Offline speech-delivery coach for Mandarin: speaking rate (characters/min), pauses and pace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Lang(str, Enum):
    zh = "zh"
    en = "en"


class Format(str, Enum):
    text = "text"
    json = "json"


SUFFIX_FORMATS = {".json": "json", ".txt": "text", ".text": "text"}


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"speechcoach: error: {message}", err=True)
    raise typer.Exit(code)


def guarded(func):
    """Turn speechcoach's own errors raised inside a command into one line and exit code 2."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SpeechcoachError as exc:
            _fail(str(exc), exc.exit_code)

    return wrapper


def _parse_band(band: str | None) -> tuple[float, float] | None:
    if band is None:
        return None
    try:
        lo, hi = (float(x) for x in band.replace("-", ",").split(","))
    except ValueError:
        raise typer.BadParameter(f"expected LO,HI such as 100,140, got {band!r}") from None
    return lo, hi


def build_settings(
    rubric: Path | None,
    *,
    target: float | None = None,
    band: str | None = None,
    min_pause: float | None = None,
    lang: Lang | None = None,
):
    """Settings from the rubric file (if any) with command-line flags winning."""
    from .settings import Settings, load_rubric

    base = load_rubric(rubric) if rubric is not None else Settings()
    lohi = _parse_band(band)
    return base.with_overrides(
        target_cpm=target,
        band_lo_cpm=lohi[0] if lohi else None,
        band_hi_cpm=lohi[1] if lohi else None,
        min_pause_s=min_pause,
        lang=lang.value if lang is not None else None,
    )


RubricOpt = Annotated[Optional[Path], typer.Option("--rubric", help="Rubric TOML file (target, band, limits).")]
LangOpt = Annotated[Optional[Lang], typer.Option("--lang", help="Report language (default zh, or the rubric's).")]
TargetOpt = Annotated[Optional[float], typer.Option("--target", help="Target rate in characters/min (default 120).")]
BandOpt = Annotated[Optional[str], typer.Option("--band", help="Moderate band LO,HI in characters/min (default 100,140).")]
MinPauseOpt = Annotated[Optional[float], typer.Option("--min-pause", help="Shortest silence counted as a pause, s (default 0.25).")]


@app.command()
@guarded
def analyze(
    file: Annotated[Path, typer.Argument(help="Recording (WAV, FLAC, OGG, MP3; m4a/aac/amr/webm with ffmpeg).")],
    script: Annotated[Optional[Path], typer.Option("--script", "-s", help="UTF-8 text of what was said.")] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", help="Report format (default: from -o's suffix, else text).")] = None,
    lang: LangOpt = None,
    target: TargetOpt = None,
    band: BandOpt = None,
    min_pause: MinPauseOpt = None,
    rubric: RubricOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here instead of printing it.")] = None,
) -> None:
    """Analyse one recording and print (or write) its feedback report."""
    _run_analyze(file, script=script, fmt=fmt, lang=lang, target=target, band=band, min_pause=min_pause, rubric=rubric, output=output)


def _run_analyze(
    file: Path,
    *,
    script: Path | None,
    fmt: Format | None,
    lang: Lang | None,
    target: float | None,
    band: str | None,
    min_pause: float | None,
    rubric: Path | None,
    output: Path | None,
) -> None:
    from .fileio import write_atomic
    from .pipeline import analyze_file, read_script
    from .render import render
    from .report import to_dict

    settings = build_settings(rubric, target=target, band=band, min_pause=min_pause, lang=lang)
    text = read_script(script) if script is not None else None
    analysis = analyze_file(file, script=text, settings=settings)
    report = to_dict(analysis)
    if fmt is not None:
        kind = fmt.value
    elif output is not None:
        kind = SUFFIX_FORMATS.get(output.suffix.lower(), "text")
    else:
        kind = "text"
    if output is not None:
        write_atomic(output, render(report, kind))
        typer.echo(f"{output}: {report['rate']['cpm']:.0f} cpm, {report['rate']['verdict']}", err=True)
    else:
        sys.stdout.write(render(report, kind, **({"color": sys.stdout.isatty()} if kind == "text" else {})))


@app.command()
@guarded
def demo(
    lang: LangOpt = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", help="Report format.")] = None,
) -> None:
    """Analyse a bundled practice recording with its script and print the report."""
    from .samples import demo_sample

    wav, txt = demo_sample()
    _run_analyze(wav, script=txt, fmt=fmt, lang=lang, target=None, band=None, min_pause=None, rubric=None, output=None)


def main() -> None:
    """Console entry point: never a traceback, always an exit code."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("speechcoach: interrupted", err=True)
        sys.exit(130)
    except SpeechcoachError as exc:
        typer.echo(f"speechcoach: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # anything unexpected: one line, no traceback
        typer.echo(f"speechcoach: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(3)
