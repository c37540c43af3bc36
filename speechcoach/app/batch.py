"""Many recordings at once: hashing, resumable state, the batch run (:func:`run_batch`), summaries.

The analysis of each recording is exactly the one ``speechcoach analyze`` runs
(:func:`speechcoach.analysis.pipeline.analyze_file` → :func:`speechcoach.render.report.to_dict` → renderers);
this module only organises it. Which recordings make up the batch (inputs, scripts, trainees,
report names) is :mod:`speechcoach.app.discovery`; analysing each one, in worker processes, is
:mod:`speechcoach.app.workers`.

Layout of the output folder ``OUT``::

    OUT/reports/<trainee>/<stem>.json     the report (always)
    OUT/reports/<trainee>/<stem>.html     the report page, the recording inside it (``link_audio``: linked)
    OUT/summary.csv                       one row per recording (UTF-8 with BOM, opens in Excel)
    OUT/summary.json                      the same rows plus per-trainee progress
    OUT/index.html                        sortable, filterable table, progress, rate histogram
    OUT/.speechcoach-state/<id>.json      one small state file per recording
    OUT/.speechcoach-state/last-run.json  what the last run did (analysed / skipped / failed)
    OUT/.speechcoach-state/transcripts/   precise mode's transcripts, for the runs to come

A row's ``pace_cv`` is empty (``null`` in ``summary.json``) when the speech fits in one pace
window: the report then says the recording is too short to judge the pace.

Resuming. After each recording's reports are written, its state file records the SHA-256 of the
audio, of the script and of the settings (plus the speechcoach version and output formats) with
the summary row; the worker that wrote the reports writes it, so a report on disk has its state
even when the batch is killed (``kill -9``). A later run skips a recording whose three hashes
match and whose outputs are all present, and rebuilds the summaries from the state files;
``force=True`` redoes everything. Recordings that could not be analysed because of the input
(an :class:`~speechcoach.errors.InputError`: corrupt audio, no speech, bad script) are remembered
too and skipped while unchanged; unexpected errors are retried on every run. Temporary files
left by a killed run (``.NAME.XXXXXXXX.tmp``, :func:`speechcoach.fileio.write_atomic`'s) are
removed when the next run starts.

Write failures. A report or state file that cannot be written (a full disk, a file where a
folder should go, a read-only folder) is not the recording's fault: the run stops (recordings
in flight get the interruption's grace period), writes what it still can of the summaries (as
for an interruption: ``"interrupted": true``), and :func:`run_batch` raises the
:class:`~speechcoach.errors.OutputError` naming the file (the command line's one line, exit 2).
Nothing is recorded against the recording, so once the disk has room the next run, without
``force``, redoes exactly what was not written and reuses the rest.

Transcripts. A recording redone because the settings changed (a guidance edit, another target,
language or report format) has the same samples and speech runs as before: precise mode's
transcript, the only slow step, is taken from ``OUT/.speechcoach-state/transcripts``
(:mod:`speechcoach.precise.cache`, keyed by the samples, runs, model and decoding options only), and
fillers, jargon, findings and reports are made afresh from it. ``force=True`` recomputes the
transcripts too; ``$SPEECHCOACH_CACHE=off`` keeps none. Each state file records whether its
transcript was ``"reused"`` or ``"computed"`` (``"transcript"``), and ``last-run.json`` the
totals (``"transcripts"``, ``null`` with caching off).

Errors. A row that could not be analysed has ``error``, the problem in the batch's language
(``settings.lang``; the ``[errors]`` templates of ``locales/*.toml``), ``error_code``, its stable
code (empty when the problem has none, e.g. an unexpected error), ``error_params``, the values in
the message, and ``error_en``, the problem in English (what the command line prints for a problem
without a code, and in an English run). Analysed rows have empty
``error`` and ``error_code``. ``summary.csv`` carries ``error`` and ``error_code``.

Interruptions. Ctrl-C, SIGTERM (while recordings are analysed) or a ``KeyboardInterrupt`` from
the progress callback stop the run: recordings in flight get a short grace period, the workers
are stopped, and the summaries are still written. They list every recording with a valid
result: those finished in this run, and for the others the earlier result a non-forced run
would have kept (same audio, script and settings, outputs present). ``summary.json`` then has
``"interrupted": true`` and ``"missing"``, the recordings of the batch left out for lack of any
valid result (both ``false``/``0`` for a complete run); ``index.html`` shows a notice.

Trainee progress. A trainee's attempts are ordered by the recording file's modification time,
ties broken by file name; "first" is the earliest, "latest" the most recent successful attempt.

Nothing here prints: progress goes to the ``progress`` callback the caller provides.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import hashlib
import io
import json
import os
import re
import signal
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .. import __version__
from .discovery import InputProblem, Recording, assign_report_names, discover, plan
from ..errors import OutputError, ParameterError
from ..fileio import caching_off, file_digest, remove_stale_temporaries, writable_folder, write_atomic
from ..settings import Settings
from .workers import Outcome, Task, analyse_one, run_pool

SUMMARY_SCHEMA = "speechcoach.batch/1"
STATE_DIR = ".speechcoach-state"
STATE_VERSION = 1
TRANSCRIPTS_DIR = "transcripts"
"""Folder of the batch's transcript cache, inside :data:`STATE_DIR`."""
REPORTS_REVISION = 5
"""Raised when the reports written for unchanged inputs change, so that a later run redoes them
(2: the HTML report's player links to the recording relative to the report, not the working folder;
the summary row's ``pace_cv`` is empty when the speech fits in one pace window; 3: a target other
than the training material's is stated beside the pace guidance, and the standards applied name
the long-pause limit; 4: reports name the script file they counted, ``input.script_path``, and
UTF-16 and GBK scripts, remembered as failures before, are read; a recording whose channels
cancel out says which one was analysed; 5: the HTML report carries the recording, compressed,
and says so when a linked one is missing; check fails on a problem finding)."""

CSV_COLUMNS = (
    "trainee",
    "file",
    "duration_s",
    "characters",
    "char_source",
    "cpm",
    "verdict",
    "pauses",
    "mid_phrase_pauses",
    "pace_cv",
    "score",
    "error",
    "error_code",
)
"""The fields of a summary row that ``summary.csv`` lists (see :data:`CSV_HEADER`)."""

CSV_HEADER = (
    *CSV_COLUMNS[: CSV_COLUMNS.index("file") + 1],
    "script",
    *CSV_COLUMNS[CSV_COLUMNS.index("file") + 1 : CSV_COLUMNS.index("cpm") + 1],
    "cpm_shown",
    *CSV_COLUMNS[CSV_COLUMNS.index("cpm") + 1 : CSV_COLUMNS.index("pauses") + 1],
    "longest_pause_s",
    *CSV_COLUMNS[CSV_COLUMNS.index("pauses") + 1 : CSV_COLUMNS.index("score") + 1],
    "check",
    "check_reasons",
    *CSV_COLUMNS[CSV_COLUMNS.index("score") + 1 :],
    "report_html",
)
"""``summary.csv``'s columns: :data:`CSV_COLUMNS` and, after ``file``, ``script``, the script the
recording was counted with, named as ``file`` is (as found from the inputs given; empty without
one, :func:`script_cell`); after ``cpm`` (stored to 0.1),
``cpm_shown``, the whole number every report shows (:func:`speechcoach.analysis.metrics.shown_cpm`),
so a spreadsheet has the number the verdict was judged on; after ``pauses``,
``longest_pause_s``, the longest pause as shown (what the long-pause limit judges); after
``score``, ``check`` (``pass``/``fail``, ``error`` for a recording not analysed) and
``check_reasons``, the broken rules in the batch's language on one line, as ``speechcoach
check`` prints them; last, ``report_html``, the recording's report relative to the output folder."""


# --------------------------------------------------------------------------- hashing and state


def settings_digest(settings: Settings, formats: Sequence[str], *, link_audio: bool = False) -> str:
    """Hash of everything besides audio and script that shapes the outputs (the guidance files'
    contents included: edited advice redoes the reports; ``link_audio``, whether the HTML report
    links to the recording instead of carrying it)."""
    from ..guidance import digest

    shape: dict[str, Any] = {
        "settings": settings.to_dict(),
        "guidance": digest(settings.guidance),
        "version": __version__,
        "formats": list(formats),
        "reports": REPORTS_REVISION,
    }
    if link_audio:
        shape["audio"] = "linked"
    blob = json.dumps(shape, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def script_digest(path: Path | None) -> str | None:
    """SHA-256 of a script file, ``None`` for no script."""
    return None if path is None else file_digest(path)


def _state_path(out: Path, rid: str) -> Path:
    return out / STATE_DIR / f"{rid}.json"


STATE_MAX_BYTES = 4_000_000
"""A state file is a few kilobytes (one summary row); anything larger is not one of ours."""


def read_state(out: Path, rid: str) -> dict[str, Any] | None:
    """The state entry of one recording, or ``None`` (missing, unreadable, not a regular file or
    larger than :data:`STATE_MAX_BYTES`: then it is redone)."""
    try:
        with open(_state_path(out, rid), "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # a device or a pipe could stream for ever
                return None
            raw = fh.read(STATE_MAX_BYTES + 1)
        if len(raw) > STATE_MAX_BYTES:
            return None
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return None
    return data


def available_formats() -> tuple[str, ...]:
    """Report formats written per recording: JSON always, HTML when the renderer has it."""
    from ..render import FORMATS

    return ("json", "html") if "html" in FORMATS else ("json",)


# --------------------------------------------------------------------------- the batch


@dataclass(frozen=True)
class Progress:
    """A progress report for the caller's display.

    Attributes
    ----------
    total : int
        Recordings in the batch.
    done : int
        Finished so far (analysed, skipped or failed).
    analysed, skipped, failed : int
        Finished by kind (``failed`` also counts remembered failures that were skipped).
    to_analyse : int
        Recordings that needed analysing in this run.
    elapsed_s : float
        Since analysis started.
    file : str or None
        The recording just finished.
    error : str or None
        Its one-line error in English, if it failed in this run.
    message : str or None
        The same in the batch's language, as its summary row words it; ``None`` when the
        problem has no code (it exists only in English).
    """

    total: int
    done: int
    analysed: int
    skipped: int
    failed: int
    to_analyse: int
    elapsed_s: float
    file: str | None = None
    error: str | None = None
    message: str | None = None


@dataclass
class BatchResult:
    """What a batch run did.

    ``skipped`` counts every recording not redone because it was unchanged, remembered failures
    included; those are also among ``failed``. :attr:`unchanged` counts only the successful ones,
    so that ``analysed + unchanged + failed == total`` for a run that was not interrupted.
    """

    out: Path
    total: int
    analysed: int
    skipped: int
    failed: int
    interrupted: bool
    elapsed_s: float
    rows: list[dict[str, Any]]
    statuses: dict[str, str]
    missing: int = 0
    """Recordings of the batch without a row in the summaries (only after an interruption)."""
    stop_signal: int = signal.SIGINT
    """The signal that interrupted the run (meaningful when ``interrupted``)."""

    @property
    def unchanged(self) -> int:
        """Recordings skipped because they were analysed before and are unchanged (no remembered failures)."""
        return sum(s == "skipped" for s in self.statuses.values())

    @property
    def exit_code(self) -> int:
        """0: every recording analysed; 2: some could not be; 128 + the signal when interrupted
        (130 for Ctrl-C, 143 for SIGTERM)."""
        if self.interrupted:
            return 128 + int(self.stop_signal)
        return 2 if self.failed else 0


class Terminated(KeyboardInterrupt):
    """SIGTERM while a batch analyses, raised in the main thread so the batch stops as on Ctrl-C."""

    signum = signal.SIGTERM


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``) in the main thread.

    Outside the main thread (where Python cannot install signal handlers) nothing changes.
    The previous handler is restored on leaving the block.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _mtime_iso(p: Path) -> str | None:
    try:
        return _dt.datetime.fromtimestamp(p.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    except OSError:
        return None


def run_batch(
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    settings: Settings = Settings(),
    scripts_dir: str | Path | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Callable[[Progress], None] | None = None,
    link_audio: bool = False,
) -> BatchResult:
    """Analyse many recordings into ``out`` (see the module docstring for the layout).

    Parameters
    ----------
    inputs : sequence of str or Path
        Files, folders, glob patterns.
    out : path-like
        Output folder (created).
    settings : Settings, keyword-only
        Rubric and language; ``settings.trainee`` decides how trainees are named.
    scripts_dir : path-like, optional
        Folder of ``NAME.txt`` scripts (else beside each recording).
    jobs : int, optional
        Worker processes; default all cores; ``1`` analyses in this process.
    force : bool
        Redo every recording even when unchanged.
    progress : callable, optional
        Called with a :class:`Progress` after each recording; it may raise ``KeyboardInterrupt``.
    link_audio : bool, keyword-only
        The HTML reports link to the recordings (relative to each report) instead of carrying
        them compressed; a linked report plays only where the recording stays beside it.

    Returns
    -------
    BatchResult
        With ``interrupted=True`` after Ctrl-C or SIGTERM (or a ``KeyboardInterrupt`` from
        ``progress``): the summaries then list every recording with a valid finished result,
        those finished in this run and, for those it did not get to, the result of an earlier
        run that would have been skipped as unchanged (which matters with ``force``); the
        summary's ``interrupted`` and ``missing`` say how partial they are.

    Raises
    ------
    ParameterError
        ``jobs`` below 1, or no recordings found at all.
    OutputError
        A report, state or summary file could not be written: the run stopped there, after
        writing what it still could (see "Write failures" in the module docstring).
    """
    out = Path(out)
    if jobs is not None and jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    writable_folder(out, option="--out")
    for folder, deep in ((out, False), (out / STATE_DIR, True), (out / "reports", True)):  # left by a killed run
        remove_stale_temporaries(folder, recursive=deep)
    jobs = jobs or os.cpu_count() or 1
    scripts = Path(scripts_dir) if scripts_dir is not None else None
    if scripts is not None and not scripts.is_dir():
        raise ParameterError(f"--scripts {scripts} is not a folder")

    files, problems = discover(inputs)
    if not files and not problems:
        raise ParameterError("no recordings given")
    recordings = plan(files, scripts_dir=scripts, trainee_mode=settings.trainee)
    work = _plan_work(recordings, out, settings, force, link_audio=link_audio)
    t0 = time.perf_counter()
    interrupted, stop_signal = _analyse(work, out, settings, jobs, progress, t0)
    result = _finish(work, problems, out, settings, jobs, t0, interrupted, stop_signal)
    if work.stopped_by is not None:  # the disk, not a recording: one line naming the file
        raise work.stopped_by
    return result


@dataclass
class _Work:
    """A batch run's recordings, what it does with each, and what it has got so far.

    ``rows`` and ``statuses`` (by recording id) start with the recordings reused from an
    earlier run (``"skipped"``, ``"skipped-failed"``) or unreadable (``"failed"``) and gain
    each one analysed; ``tasks`` are those to analyse; ``earlier``, the still valid earlier
    result of each one redone by ``force``, stands in when the run stops before redoing it.
    """

    total: int
    """Recordings in the batch (the inputs' problems not counted)."""
    by_id: dict[str, Recording]
    settings_sha256: str
    digests: dict[str, tuple[str | None, str | None]]
    """(audio, script) SHA-256 of each readable recording, for its state file."""
    rows: dict[str, dict[str, Any]]
    statuses: dict[str, str]
    tasks: list[Task]
    earlier: dict[str, dict[str, Any]]
    skipped: int
    """Recordings reused unchanged, remembered failures included."""
    failed: int
    analysed: int = 0
    transcripts: dict[str, int] | None = field(default_factory=lambda: {"reused": 0, "computed": 0})
    """Transcripts of this run's analyses taken from the cache, and made by the recogniser
    (``None`` when ``$SPEECHCOACH_CACHE`` turns caching off: nothing is counted)."""
    stopped_by: OutputError | None = None
    """The file that could not be written, which stopped the run."""


def _plan_work(recordings: list[Recording], out: Path, settings: Settings, force: bool, *, link_audio: bool = False) -> _Work:
    """Step 1: hash each recording and reuse its earlier result when unchanged (unless ``force``),
    else make it a task."""
    formats = available_formats()
    s_digest = settings_digest(settings, formats, link_audio=link_audio)
    states = {r.id: read_state(out, r.id) for r in recordings}
    names = assign_report_names(recordings, {rid: st["name"] for rid, st in states.items() if st and st.get("name")})

    rows: dict[str, dict[str, Any]] = {}
    statuses: dict[str, str] = {}
    digests: dict[str, tuple[str | None, str | None]] = {}
    tasks: list[Task] = []
    earlier: dict[str, dict[str, Any]] = {}
    transcripts = None if caching_off() else str(out / STATE_DIR / TRANSCRIPTS_DIR)
    for r in recordings:
        try:
            digests[r.id] = (file_digest(r.path), script_digest(r.script))
        except OSError as exc:
            if not r.path.exists():  # gone, or a broken link: worded as loading words it
                from ..audio import missing_file_error

                err = missing_file_error(r.path)
                rows[r.id] = _error_row(r, err.problem, code=err.code, params=err.params, lang=settings.lang)
            else:
                reason = str(exc.strerror or exc)
                rows[r.id] = _error_row(
                    r, f"cannot read file ({reason})", code="cannot_read", params={"reason": reason}, lang=settings.lang
                )
            statuses[r.id] = "failed"
            continue
        st = states[r.id]
        if st is not None and _unchanged(st, digests[r.id], s_digest, out, names[r.id], r):
            if not force:
                rows[r.id] = _with_identity(_stored_row(st["row"]), r)
                statuses[r.id] = "skipped-failed" if st["row"].get("error") else "skipped"
                continue
            # redone (force); its earlier result stands in if this run is interrupted first
            earlier[r.id] = _stored_row(st["row"])
        state = {  # completed and written by the worker, right after the reports
            "version": STATE_VERSION,
            "audio": os.path.abspath(r.path),
            "audio_sha256": digests[r.id][0],
            "script": os.path.abspath(r.script) if r.script else None,
            "script_sha256": digests[r.id][1],
            "settings_sha256": s_digest,
            "name": names[r.id],
        }
        tasks.append(Task(r.id, str(r.path), str(r.script) if r.script else None, str(out), names[r.id], formats, settings,
                          transcripts=transcripts, reuse_transcripts=not force, state=state, state_path=str(_state_path(out, r.id)),
                          link_audio=link_audio))

    return _Work(
        total=len(recordings),
        by_id={r.id: r for r in recordings},
        settings_sha256=s_digest,
        digests=digests,
        rows=rows,
        statuses=statuses,
        tasks=tasks,
        earlier=earlier,
        skipped=sum(s.startswith("skipped") for s in statuses.values()),
        failed=sum(s != "skipped" for s in statuses.values()),
        transcripts=None if transcripts is None else {"reused": 0, "computed": 0},
    )


def _analyse(
    work: _Work, out: Path, settings: Settings, jobs: int, progress: Callable[[Progress], None] | None, t0: float
) -> tuple[bool, int]:
    """Step 2: analyse the tasks (in this process, or ``jobs`` workers), recording each result as
    it comes; returns (interrupted, the signal that stopped it): Ctrl-C, SIGTERM or a
    ``KeyboardInterrupt`` from ``progress`` stop the run without raising."""
    def emit(file: str | None = None, error: str | None = None, message: str | None = None) -> None:
        if progress is not None:
            progress(
                Progress(
                    total=work.total,
                    done=len(work.statuses),
                    analysed=work.analysed,
                    skipped=work.skipped,
                    failed=work.failed,
                    to_analyse=len(work.tasks),
                    elapsed_s=time.perf_counter() - t0,
                    file=file,
                    error=error,
                    message=message,
                )
            )

    def on_done(task: Task, oc: Outcome) -> None:
        _record(work, task, oc, out, settings)
        row = work.rows.get(task.rid, {})
        emit(str(work.by_id[task.rid].path), oc.error, row.get("error") if oc.error is not None and row.get("error_code") else None)

    try:
        with sigterm_interrupts():
            emit()
            if jobs == 1 or len(work.tasks) <= 1:
                for t in work.tasks:
                    on_done(t, analyse_one(t))
            else:
                run_pool(work.tasks, min(jobs, len(work.tasks)), on_done)
    except KeyboardInterrupt as exc:
        return True, getattr(exc, "signum", signal.SIGINT)
    except OutputError as exc:  # a file could not be written: stop as on Ctrl-C, then say which
        work.stopped_by = exc
        return True, signal.SIGINT
    return False, signal.SIGINT


def _record(work: _Work, task: Task, oc: Outcome, out: Path, settings: Settings) -> None:
    """One recording finished: its row and status, and its state file (for a later run to reuse;
    the worker has written it for an analysed one) unless it failed for a reason worth retrying.

    Raises
    ------
    OutputError
        A report or state file could not be written (by the worker, or here): the run stops,
        and nothing is recorded against the recording.
    """
    r = work.by_id[task.rid]
    if oc.output_error is not None:
        raise oc.output_error
    if oc.error is not None:
        row = _error_row(r, oc.error, code=oc.code, params=oc.params, message=oc.message, lang=settings.lang)
        work.statuses[r.id] = "failed"
        work.failed += 1
    else:
        row = _with_identity(dict(oc.row), r)
        row["report_json"] = oc.outputs.get("json", "")
        row["report_html"] = oc.outputs.get("html", "")
        work.statuses[r.id] = "analysed"
        work.analysed += 1
    work.rows[r.id] = row
    if oc.transcript is not None and work.transcripts is not None:
        work.transcripts[oc.transcript] += 1
    if (oc.error is None and not oc.state_written) or (oc.error is not None and oc.cacheable):
        audio_d, script_d = work.digests[r.id]
        entry = {
            "version": STATE_VERSION,
            "audio": os.path.abspath(r.path),
            "audio_sha256": audio_d,
            "script": os.path.abspath(r.script) if r.script else None,
            "script_sha256": script_d,
            "settings_sha256": work.settings_sha256,
            "name": task.name,
            "outputs": oc.outputs,
            "row": {k: v for k, v in row.items() if k not in ("trainee", "file", "recorded")},
            "seconds": round(oc.seconds, 3),
            "transcript": oc.transcript,
            "finished": _now(),
        }
        write_atomic(_state_path(out, r.id), json.dumps(entry, ensure_ascii=False, indent=1) + "\n")


def _finish(
    work: _Work,
    problems: Sequence[InputProblem],
    out: Path,
    settings: Settings,
    jobs: int,
    t0: float,
    interrupted: bool,
    stop_signal: int,
) -> BatchResult:
    """Step 3, also after an interruption: the summaries (with the earlier result of each forced
    recording not redone yet, still valid) and ``last-run.json``."""
    by_id, rows, statuses, total = work.by_id, work.rows, work.statuses, work.total
    for rid, row in work.earlier.items():  # not redone yet: the earlier result is still valid
        rows.setdefault(rid, _with_identity(row, by_id[rid]))
    for rid, row in rows.items():  # the script each was judged with, this run's pairing (its digest is in the state)
        row["script"] = script_cell(by_id[rid].script)
    missing = total - len(rows)
    problem_rows = [_problem_row(p, settings.lang) for p in problems]
    result_rows = _sorted_rows(list(rows.values()) + problem_rows)
    unwritten: OutputError | None = None
    try:
        write_summaries(out, result_rows, settings, interrupted=interrupted, missing=missing)
    except OutputError as exc:  # the state files hold every result: write what still can be
        unwritten = exc
    elapsed = time.perf_counter() - t0
    log = {
        "finished": _now(),
        "interrupted": interrupted,
        "elapsed_s": round(elapsed, 3),
        "jobs": jobs,
        "counts": {
            "total": total + len(problems),
            "analysed": work.analysed,
            "skipped": work.skipped,
            "failed": work.failed + len(problems),
            "not_finished": total - len(statuses),
        },
        "transcripts": None if work.transcripts is None else dict(work.transcripts),
        "recordings": {str(by_id[rid].path): s for rid, s in statuses.items()},
        "input_problems": [{"input": p.input, "problem": p.problem} for p in problems],
        "stopped_by": None if work.stopped_by is None else str(work.stopped_by),
    }
    try:
        write_atomic(out / STATE_DIR / "last-run.json", json.dumps(log, ensure_ascii=False, indent=1) + "\n")
    except OutputError as exc:
        unwritten = unwritten or exc
    if unwritten is not None and work.stopped_by is None:
        work.stopped_by = unwritten
    return BatchResult(
        out=out,
        total=total + len(problems),
        analysed=work.analysed,
        skipped=work.skipped,
        failed=work.failed + len(problems),
        interrupted=interrupted,
        elapsed_s=elapsed,
        rows=result_rows,
        statuses={str(by_id[rid].path): s for rid, s in statuses.items()},
        missing=missing,
        stop_signal=stop_signal,
    )


def _unchanged(
    st: dict[str, Any] | None, digests: tuple[str | None, str | None], s_digest: str, out: Path, name: str, r: Recording
) -> bool:
    if not st or not isinstance(st.get("row"), dict):
        return False
    if (st.get("audio_sha256"), st.get("script_sha256"), st.get("settings_sha256")) != (*digests, s_digest):
        return False
    if st.get("script") != (os.path.abspath(r.script) if r.script else None):
        return False
    if st["row"].get("error"):
        return True
    outputs = st.get("outputs") or {}
    if st.get("name") != name or not outputs:
        return False
    return all((out / rel).is_file() for rel in outputs.values())


def script_cell(script: Path | None) -> str:
    """A recording's script as ``summary.csv`` and ``summary.json`` name it: as ``file`` names the
    recording (``cohort/li/a1.txt`` beside ``cohort/li/a1.wav``); ``""`` without a script."""
    return "" if script is None else str(script)


def _with_identity(row: dict[str, Any], r: Recording) -> dict[str, Any]:
    row["trainee"] = r.trainee
    row["file"] = str(r.path)
    row["recorded"] = _mtime_iso(r.path)
    return row


def _error_fields(
    error: str, *, code: str | None = None, params: dict[str, Any] | None = None, message: str | None = None, lang: str | None = None
) -> dict[str, Any]:
    """A row's error fields (see the module docstring); ``message`` is made from ``lang`` when not given."""
    from ..locales import error_text

    params = dict(params or {})
    if message is None:
        message = error_text(code, params, lang or "en", fallback=error)
    return {
        "error": " ".join(message.split()) or " ".join(error.split()),
        "error_code": code or "",
        "error_params": params,
        "error_en": " ".join(error.split()),
    }


def _error_row(r: Recording, error: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in CSV_COLUMNS}
    row.update({"check": "error", "check_reasons": [], "report_json": "", "report_html": ""})
    row.update(_error_fields(error, **kw))
    return _with_identity(row, r)


def _problem_row(p: InputProblem, lang: str) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in CSV_COLUMNS}
    row.update({"trainee": "", "file": p.input, "script": "", "check": "error", "check_reasons": [], "recorded": None})
    row.update(_error_fields(p.problem, code=p.code, lang=lang))
    row.update({"report_json": "", "report_html": ""})
    return row


def _stored_row(row: dict[str, Any]) -> dict[str, Any]:
    """A summary row from a state file; rows stored before error codes keep their English text."""
    row = dict(row)
    row.setdefault("error_code", "")
    if row.get("error") and not row.get("error_en"):
        row["error_en"] = row["error"]
        row.setdefault("error_params", {})
    return row


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key reading runs of digits as numbers: ``take2`` before ``take10``, 第2次 before 第10次."""
    return tuple((0, int(part)) if part.isdecimal() else (1, part) for part in re.split(r"(\d+)", text) if part)


def _sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = []
    for row in sorted(rows, key=lambda r: (natural_key(r.get("trainee") or ""), natural_key(r.get("file") or ""))):
        first = {c: row.get(c) for c in CSV_COLUMNS}
        first.update({k: v for k, v in row.items() if k not in first})
        ordered.append(first)
    return ordered


# --------------------------------------------------------------------------- summaries


def trainee_progress(rows: Sequence[dict[str, Any]], target_cpm: float) -> list[dict[str, Any]]:
    """Per trainee: attempts, and the first vs the latest successful attempt.

    Attempts are ordered by the recording file's modification time (``recorded``), ties
    broken by file name read with its numbers as numbers (``take2`` before ``take10``).
    """
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("trainee"):
            by.setdefault(r["trainee"], []).append(r)
    out = []
    for name in sorted(by, key=natural_key):
        attempts = sorted(by[name], key=lambda r: (r.get("recorded") or "", natural_key(r.get("file") or "")))
        ok = [r for r in attempts if not r.get("error")]
        entry: dict[str, Any] = {"trainee": name, "attempts": len(attempts), "analysed": len(ok), "failed": len(attempts) - len(ok)}
        if ok:
            first, latest = ok[0], ok[-1]
            entry["first"] = {k: first[k] for k in ("file", "recorded", "cpm", "verdict", "score")}
            entry["latest"] = {k: latest[k] for k in ("file", "recorded", "cpm", "verdict", "score")}
            entry["delta_cpm"] = round(latest["cpm"] - first["cpm"], 1)
            entry["delta_score"] = latest["score"] - first["score"]
            entry["closer_to_target"] = abs(latest["cpm"] - target_cpm) < abs(first["cpm"] - target_cpm)
            entry["in_band"] = sum(r["verdict"] == "on_target" for r in ok)
        out.append(entry)
    return out


def build_summary(
    rows: Sequence[dict[str, Any]], settings: Settings, *, interrupted: bool = False, missing: int = 0
) -> dict[str, Any]:
    """The ``summary.json`` document (schema ``speechcoach.batch/1``).

    Parameters
    ----------
    rows : sequence of dict
        One per recording (and per input that yielded none).
    settings : Settings
        The batch's settings.
    interrupted : bool, keyword-only
        The run was stopped (Ctrl-C, SIGTERM) before every recording was done.
    missing : int, keyword-only
        Recordings of the batch that have no row: neither finished in the interrupted run
        nor with a valid earlier result.

    Returns
    -------
    dict
        ``interrupted`` and ``missing`` are recorded as given: a summary with
        ``interrupted`` true is partial (rows not redone keep their earlier result).
    """
    ok = [r for r in rows if not r.get("error")]
    return {
        "schema": SUMMARY_SCHEMA,
        "generator": f"speechcoach {__version__}",
        "created": _now(),
        "lang": settings.lang,
        "interrupted": bool(interrupted),
        "missing": int(missing),
        "settings": {
            "target_cpm": settings.target_cpm,
            "band_cpm": [settings.band_lo_cpm, settings.band_hi_cpm],
            "max_pause_s": settings.max_pause_s,
            "max_mid_phrase": settings.max_mid_phrase,
            "max_cv": settings.max_cv,
            "trainee": settings.trainee,
        },
        "counts": {
            "recordings": len(rows),
            "analysed": len(ok),
            "failed": len(rows) - len(ok),
            "slow": sum(r["verdict"] == "slow" for r in ok),
            "on_target": sum(r["verdict"] == "on_target" for r in ok),
            "fast": sum(r["verdict"] == "fast" for r in ok),
            "passed_check": sum(r.get("check") == "pass" for r in ok),
        },
        "progress_order": "file modification time, then file name",
        "trainees": trainee_progress(rows, settings.target_cpm),
        "recordings": list(rows),
    }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV Injection")."""


def inert_cell(value: Any) -> Any:
    r"""A text cell a spreadsheet will not run: one that starts with a character of
    :data:`FORMULA_STARTS` (a trainee folder named ``=1+2`` or ``@SUM(1+1)``) gets a leading
    single quote, which Excel and LibreOffice show as text and hide; numbers (a negative one
    included) and other values are returned unchanged.

    >>> inert_cell('=HYPERLINK("http://x")'), inert_cell("-2+3"), inert_cell(-2.5), inert_cell("张三")
    ('\'=HYPERLINK("http://x")', "'-2+3", -2.5, '张三')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def summary_csv(rows: Sequence[dict[str, Any]], lang: str = "en") -> bytes:
    """``summary.csv``: the :data:`CSV_HEADER` of every row, UTF-8 with BOM (for Excel), each
    number column with a fixed count of decimals (``21.00``, not ``21.0`` beside ``27.11``);
    ``lang`` (the rows' language) gives the separator of the reasons in ``check_reasons``.

    Inert in a spreadsheet: every text cell goes through :func:`inert_cell` (no formula runs from
    a trainee's folder or file name, a script name or an error text), while numbers are written
    as numbers, a negative one too."""
    from ..locales import strings
    from ..analysis.metrics import shown_cpm

    sep = strings(lang)["check"]["reason_sep"]
    fixed = {"duration_s": 2, "cpm": 1, "articulation_cpm": 1, "longest_pause_s": 1, "pace_cv": 2}  # one width per column

    def cell(column: str, value: Any) -> Any:
        if value is None:
            return ""
        if column in fixed and isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{value:.{fixed[column]}f}"  # a number, written as one
        return inert_cell(value)

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_HEADER)
    for r in rows:
        cells = dict(
            r,
            cpm_shown=None if r.get("cpm") in (None, "") else shown_cpm(r["cpm"]),
            check_reasons=sep.join(r.get("check_reasons") or []),
        )
        w.writerow([cell(c, cells.get(c)) for c in CSV_HEADER])
    return buf.getvalue().encode("utf-8-sig")


def write_summaries(
    out: Path, rows: Sequence[dict[str, Any]], settings: Settings, *, interrupted: bool = False, missing: int = 0
) -> dict[str, Any]:
    """Write ``summary.csv``, ``summary.json`` and ``index.html`` atomically; returns the summary
    (``interrupted`` and ``missing`` as in :func:`build_summary`).

    Raises
    ------
    OutputError
        The first of them that could not be written, after trying the others.
    """
    from ..render.index import render_index

    summary = build_summary(rows, settings, interrupted=interrupted, missing=missing)
    failed: OutputError | None = None
    for name, content in (
        ("summary.csv", lambda: summary_csv(rows, settings.lang)),
        ("summary.json", lambda: json.dumps(summary, ensure_ascii=False, indent=1) + "\n"),
        ("index.html", lambda: render_index(summary)),
    ):
        try:  # one that cannot be written (a full disk) does not keep the others from trying
            write_atomic(out / name, content())
        except OutputError as exc:
            failed = failed or exc
    if failed is not None:
        raise failed
    return summary
