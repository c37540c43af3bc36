"""Many recordings at once: discovery, pairing, hashing, parallel workers, resumable state, summaries.

The analysis of each recording is exactly the one ``speechcoach analyze`` runs
(:func:`speechcoach.pipeline.analyze_file` → :func:`speechcoach.report.to_dict` → renderers);
this module only organises it.

Layout of the output folder ``OUT``::

    OUT/reports/<trainee>/<stem>.json     the report (always)
    OUT/reports/<trainee>/<stem>.html     the report page (when the html renderer exists)
    OUT/summary.csv                       one row per recording (UTF-8 with BOM, opens in Excel)
    OUT/summary.json                      the same rows plus per-trainee progress
    OUT/index.html                        sortable, filterable table, progress, rate histogram
    OUT/.speechcoach-state/<id>.json      one small state file per recording
    OUT/.speechcoach-state/last-run.json  what the last run did (analysed / skipped / failed)

Resuming. After each recording finishes, its state file records the SHA-256 of the audio, of
the script and of the settings (plus the speechcoach version and output formats) with the
summary row. A later run skips a recording whose three hashes match and whose outputs are all
present, and rebuilds the summaries from the state files; ``force=True`` redoes everything.
Recordings that could not be analysed because of the input (an :class:`~speechcoach.errors.InputError`:
corrupt audio, no speech, bad script) are remembered too and skipped while unchanged; unexpected
errors are retried on every run.

Errors. A row that could not be analysed has ``error``, the problem in the batch's language
(``settings.lang``; the ``[errors]`` templates of ``locales/*.toml``), ``error_code``, its stable
code (empty when the problem has none, e.g. an unexpected error), ``error_params``, the values in
the message, and ``error_en``, the English line the command line prints. Analysed rows have empty
``error`` and ``error_code``. ``summary.csv`` carries ``error`` and ``error_code``.

Trainee progress. A trainee's attempts are ordered by the recording file's modification time,
ties broken by file name; "first" is the earliest, "latest" the most recent successful attempt.

Nothing here prints: progress goes to the ``progress`` callback the caller provides.
"""

from __future__ import annotations

import csv
import datetime as _dt
import glob
import hashlib
import io
import json
import multiprocessing as mp
import os
import re
import signal
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from . import __version__
from .errors import InputError, ParameterError, SpeechcoachError
from .fileio import file_digest, write_atomic
from .settings import Settings

SUMMARY_SCHEMA = "speechcoach.batch/1"
STATE_DIR = ".speechcoach-state"
STATE_VERSION = 1
TASKS_PER_CHILD = 100
"""A worker process is replaced after this many recordings, so memory stays flat."""
INTERRUPT_GRACE_S = 2.0
"""On Ctrl-C, recordings already being analysed get this long to finish before workers are stopped."""

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

_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class Recording:
    """One recording to analyse.

    Attributes
    ----------
    path : Path
        The audio file, as discovered from the user's input (shown in summaries).
    script : Path or None
        Its script (``NAME.txt``), if one was found.
    trainee : str
        Whose recording it is (folder-safe).
    id : str
        Stable identifier derived from the absolute path (names the state file).
    """

    path: Path
    script: Path | None
    trainee: str
    id: str

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class InputProblem:
    """A command-line input that yielded nothing (missing file, empty folder, unmatched glob).

    ``problem`` is English; ``code`` names its template in the ``[errors]`` table of the locales.
    """

    input: str
    problem: str
    code: str | None = None


def _is_hidden(p: Path) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in p.parts)


def _audio_suffixes() -> frozenset[str]:
    from .audio import AUDIO_SUFFIXES

    return AUDIO_SUFFIXES


def _walk(folder: Path) -> list[Path]:
    sfx = _audio_suffixes()
    found = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if p.suffix.lower() in sfx and not _is_hidden(rel) and p.is_file():
            found.append(p)
    return found


def discover(inputs: Sequence[str | Path]) -> tuple[list[Path], list[InputProblem]]:
    """Expand files, folders (recursively) and glob patterns into audio files.

    Parameters
    ----------
    inputs : sequence of str or Path
        As typed by the user. Patterns (``*``, ``?``, ``[…]``, ``**``) are expanded here, so
        quoted globs work. Folders and glob matches keep only audio suffixes
        (:data:`speechcoach.audio.AUDIO_SUFFIXES`); hidden files and folders are ignored.
        A file named explicitly is taken whatever its suffix.

    Returns
    -------
    files : list of Path
        Unique (by absolute path), sorted by path.
    problems : list of InputProblem
        Inputs that matched nothing.
    """
    sfx = _audio_suffixes()
    seen: dict[str, Path] = {}
    problems: list[InputProblem] = []

    def add(p: Path) -> None:
        seen.setdefault(os.path.abspath(p), p)

    for raw in inputs:
        text = str(raw)
        p = Path(text)
        if p.is_dir():
            found = _walk(p)
            if not found:
                problems.append(InputProblem(text, "folder holds no recordings", code="no_recordings_in_folder"))
            for f in found:
                add(f)
        elif p.exists():
            add(p)
        elif glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            n = 0
            for m in matches:
                if m.is_dir():
                    for f in _walk(m):
                        add(f)
                        n += 1
                elif m.suffix.lower() in sfx and m.is_file():
                    add(m)
                    n += 1
            if n == 0:
                problems.append(InputProblem(text, "no recordings match this pattern", code="no_match"))
        else:
            problems.append(InputProblem(text, "file not found", code="file_not_found"))
    return sorted(seen.values(), key=lambda q: str(q)), problems


def find_script(audio: Path, scripts_dir: Path | None = None) -> Path | None:
    """The script paired with ``audio`` by file stem.

    ``scripts_dir/NAME.txt`` is preferred when ``scripts_dir`` is given, then ``NAME.txt``
    beside the recording. Returns ``None`` when neither exists (the characters are then
    estimated from the sound).
    """
    candidates = []
    if scripts_dir is not None:
        candidates.append(scripts_dir / f"{audio.stem}.txt")
    candidates.append(audio.with_suffix(".txt"))
    for c in candidates:
        if c.is_file():
            return c
    return None


def safe_name(name: str) -> str:
    """``name`` made safe as one folder or file name component."""
    s = _UNSAFE.sub("_", name).strip().lstrip(".")
    return s or "_"


def trainee_of(audio: Path, mode: str = "parent") -> str:
    """Who made the recording.

    Parameters
    ----------
    audio : Path
    mode : {"parent", "stem-prefix"}
        ``"parent"``: the name of the folder holding the file. ``"stem-prefix"``: the part of
        the file stem before the first ``_`` or ``-`` (the whole stem if it has neither).
    """
    if mode == "stem-prefix":
        head = re.split(r"[_-]", audio.stem, maxsplit=1)[0]
        return safe_name(head or audio.stem)
    return safe_name(Path(os.path.abspath(audio)).parent.name)


def recording_id(audio: Path) -> str:
    """Stable id of a recording: a hash of its absolute path."""
    return hashlib.sha256(os.path.abspath(audio).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def plan(files: Iterable[Path], *, scripts_dir: Path | None = None, trainee_mode: str = "parent") -> list[Recording]:
    """Pair each audio file with its script and trainee."""
    return [
        Recording(path=f, script=find_script(f, scripts_dir), trainee=trainee_of(f, trainee_mode), id=recording_id(f))
        for f in files
    ]


def assign_report_names(recordings: Sequence[Recording], previous: dict[str, str] | None = None) -> dict[str, str]:
    """Give each recording a report path stem ``reports/<trainee>/<name>`` (no suffix), unique.

    A recording keeps the name it had in an earlier run (``previous``: id → name) when that
    name is still free; otherwise the stem is used, and identical stems of one trainee are told
    apart by ``~<suffix>`` (``talk.wav`` vs ``talk.mp3``) or a short hash of the folder.
    """
    previous = previous or {}
    out: dict[str, str] = {}
    taken: set[str] = set()
    for r in recordings:
        old = previous.get(r.id)
        if old and old.lower() not in taken and old.startswith(f"reports/{r.trainee}/"):
            out[r.id] = old
            taken.add(old.lower())
    groups: dict[str, list[Recording]] = {}
    for r in recordings:
        if r.id not in out:
            groups.setdefault(f"reports/{r.trainee}/{safe_name(r.stem)}".lower(), []).append(r)
    for key, group in groups.items():
        for r in group:
            base = f"reports/{r.trainee}/{safe_name(r.stem)}"
            name = base
            if len(group) > 1 or name.lower() in taken:
                name = f"{base}~{r.path.suffix.lstrip('.').lower() or 'audio'}"
                if name.lower() in taken or sum(q.path.suffix.lower() == r.path.suffix.lower() for q in group) > 1:
                    name = f"{base}~{hashlib.sha256(os.path.abspath(r.path.parent).encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
                k = 2
                while name.lower() in taken:
                    name = f"{base}~{k}"
                    k += 1
            out[r.id] = name
            taken.add(name.lower())
    return out


# --------------------------------------------------------------------------- hashing and state


def settings_digest(settings: Settings, formats: Sequence[str]) -> str:
    """Hash of everything besides audio and script that shapes the outputs."""
    blob = json.dumps({"settings": settings.to_dict(), "version": __version__, "formats": list(formats)}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def script_digest(path: Path | None) -> str | None:
    """SHA-256 of a script file, ``None`` for no script."""
    return None if path is None else file_digest(path)


def _state_path(out: Path, rid: str) -> Path:
    return out / STATE_DIR / f"{rid}.json"


def read_state(out: Path, rid: str) -> dict[str, Any] | None:
    """The state entry of one recording, or ``None`` (missing or unreadable: then it is redone)."""
    try:
        data = json.loads(_state_path(out, rid).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return None
    return data


def available_formats() -> tuple[str, ...]:
    """Report formats written per recording: JSON always, HTML when the renderer has it."""
    from .render import FORMATS

    return ("json", "html") if "html" in FORMATS else ("json",)


# --------------------------------------------------------------------------- the worker


@dataclass(frozen=True)
class Task:
    """What a worker needs to analyse one recording and write its reports."""

    rid: str
    audio: str
    script: str | None
    out: str
    name: str
    formats: tuple[str, ...]
    settings: Settings


@dataclass
class Outcome:
    """What a worker sends back: the summary row, or an error.

    ``error`` is the English one-line problem (what the command line prints), ``code`` and
    ``params`` its stable code and values, ``message`` the problem already put in the batch's
    language where only the worker could do it (an input error naming the script); otherwise
    ``None``, and the summary row localises ``code``.
    """

    rid: str
    row: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    cacheable: bool = True
    seconds: float = 0.0
    code: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


def _failure(task: Task, error: str, *, code: str | None = None, params: dict[str, Any] | None = None,
             message: str | None = None, **kw: Any) -> Outcome:
    """An error :class:`Outcome` for ``task``. ``message`` only when the caller has localised
    it itself; otherwise the summary row makes it from ``code`` (:func:`_error_fields`)."""
    return Outcome(task.rid, error=error, code=code, params=dict(params or {}), message=message, **kw)


def row_from_report(report: dict[str, Any]) -> dict[str, Any]:
    """The summary fields of one report (besides trainee, file and links)."""
    from .check import judge

    pauses = report["pauses"]
    j = judge(report, lang=report.get("lang"))
    return {
        "duration_s": round(float(report["input"]["duration_s"]), 2),
        "characters": int(report["characters"]["count"]),
        "char_source": report["characters"]["source"],
        "cpm": round(float(report["rate"]["cpm"]), 1),
        "articulation_cpm": round(float(report["rate"]["articulation_cpm"]), 1),
        "verdict": report["rate"]["verdict"],
        "pauses": len(pauses),
        "mid_phrase_pauses": sum(p.get("placement") == "mid_phrase" for p in pauses),
        "longest_pause_s": round(max((p["duration_s"] for p in pauses), default=0.0), 2),
        "pace_cv": round(float(report["pace"]["cv"]), 3),
        "score": int(report["score"]),
        "check": "pass" if j.passed else "fail",
        "check_reasons": list(j.reasons),
        "error": "",
        "error_code": "",
    }


def analyse_one(task: Task) -> Outcome:
    """Analyse one recording and write its reports; never raises for a bad input.

    The same steps as ``speechcoach analyze``: :func:`~speechcoach.pipeline.read_script`,
    :func:`~speechcoach.pipeline.analyze_file`, :func:`~speechcoach.report.to_dict`,
    :func:`~speechcoach.render.render`, :func:`~speechcoach.fileio.write_atomic`.
    """
    t0 = time.perf_counter()
    try:
        from .pipeline import analyze_file, read_script
        from .render import render
        from .report import to_dict

        text = read_script(task.script) if task.script is not None else None
        analysis = analyze_file(task.audio, script=text, settings=task.settings)
        report = to_dict(analysis)
        del analysis
        outputs: dict[str, str] = {}
        for fmt in task.formats:
            rel = f"{task.name}.{fmt}"
            write_atomic(Path(task.out) / rel, render(report, fmt))
            outputs[fmt] = rel
        return Outcome(task.rid, row=row_from_report(report), outputs=outputs, seconds=time.perf_counter() - t0)
    except InputError as exc:
        from .locales import error_text

        own = exc.path == task.audio  # else it names the script
        return _failure(task, exc.problem if own else str(exc), code=exc.code, params=exc.params,
                        message=error_text(exc, lang=task.settings.lang, path=None if own else exc.path),
                        cacheable=True, seconds=time.perf_counter() - t0)
    except SpeechcoachError as exc:
        return _failure(task, str(exc), cacheable=False, seconds=time.perf_counter() - t0)
    except MemoryError:
        return _failure(task, "out of memory while analysing", code="out_of_memory", cacheable=False, seconds=time.perf_counter() - t0)
    except Exception as exc:  # a bug or an odd file must not stop the batch
        return _internal(task, exc, seconds=time.perf_counter() - t0)


def _internal(task: Task, exc: BaseException, **kw: Any) -> Outcome:
    """The error outcome of an unexpected exception (a bug or an odd file)."""
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())
    return _failure(task, f"internal error: {detail}", code="internal_error", params={"detail": detail}, cacheable=False, **kw)


def _worker_init() -> None:
    """Workers ignore Ctrl-C: the parent decides when they stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _mp_context() -> mp.context.BaseContext:
    """A fork server with the analysis preloaded where available (cheap worker restarts), else spawn."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["speechcoach.batch", "speechcoach.pipeline", "speechcoach.report", "speechcoach.render"])
        return ctx
    return mp.get_context("spawn")


def _new_pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=_mp_context(), initializer=_worker_init, max_tasks_per_child=TASKS_PER_CHILD
    )


def _stop_pool(ex: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what is queued and terminate its worker processes."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            p.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    for p in procs:
        try:
            p.join(timeout=2.0)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


def _isolated(task: Task) -> Outcome:
    """Re-run a task that was in flight when a worker died, alone in a fresh process."""
    ex = _new_pool(1)
    try:
        return ex.submit(analyse_one, task).result()
    except BrokenProcessPool:
        return _failure(task, "the analysis process crashed on this file", code="worker_crashed", cacheable=False)
    finally:
        _stop_pool(ex)


def _run_pool(tasks: Sequence[Task], jobs: int, on_done: Callable[[Task, Outcome], None]) -> None:
    """Run ``tasks`` on ``jobs`` worker processes, calling ``on_done`` in this process as each ends.

    At most ``2 * jobs`` tasks are in flight, so a crashed worker only puts those under suspicion:
    they are retried one by one in a fresh process, and one that crashes again becomes an error row.
    On ``KeyboardInterrupt`` (or any exception from ``on_done``), tasks in flight get
    :data:`INTERRUPT_GRACE_S` to finish, then the workers are terminated and the exception re-raised.
    """
    queue = deque(tasks)
    fruitless = 0
    while queue:
        if fruitless >= 3:  # worker processes cannot even start: report the rest instead of looping
            while queue:
                t = queue.popleft()
                on_done(t, _failure(t, "no analysis process could be started", code="no_worker", cacheable=False))
            return
        left_before = len(queue)
        ex = _new_pool(jobs)
        inflight: dict[Future[Outcome], Task] = {}
        suspects: list[Task] = []
        broken = False
        try:
            while (queue or inflight) and not broken:
                while queue and len(inflight) < 2 * jobs:
                    t = queue[0]
                    try:
                        fut = ex.submit(analyse_one, t)
                    except BrokenProcessPool:
                        broken = True
                        break
                    queue.popleft()
                    inflight[fut] = t
                if broken:
                    break
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for fut in done:
                    t = inflight.pop(fut)
                    exc = fut.exception()
                    if isinstance(exc, BrokenProcessPool):
                        suspects.append(t)
                        broken = True
                    elif exc is not None:
                        on_done(t, _internal(t, exc))
                    else:
                        on_done(t, fut.result())
        except BaseException:
            _drain(inflight, on_done)
            _stop_pool(ex)
            raise
        if broken:
            suspects.extend(inflight.values())
            fruitless = fruitless + 1 if len(queue) == left_before and not suspects else 0
            _stop_pool(ex)
            for t in suspects:
                on_done(t, _isolated(t))
        else:
            ex.shutdown(wait=True)


def _drain(inflight: dict[Future[Outcome], Task], on_done: Callable[[Task, Outcome], None]) -> None:
    """Record the in-flight tasks that finish within the grace period (best effort)."""
    if not inflight:
        return
    try:
        done, _ = wait(list(inflight), timeout=INTERRUPT_GRACE_S)
        for fut in done:
            if fut.exception() is None:
                on_done(inflight[fut], fut.result())
    except BaseException:  # a second Ctrl-C: give up on the rest
        pass


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
        Its one-line error, if it failed in this run.
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


@dataclass
class BatchResult:
    """What a batch run did."""

    out: Path
    total: int
    analysed: int
    skipped: int
    failed: int
    interrupted: bool
    elapsed_s: float
    rows: list[dict[str, Any]]
    statuses: dict[str, str]

    @property
    def exit_code(self) -> int:
        """0: every recording analysed; 2: some could not be; 130: interrupted."""
        if self.interrupted:
            return 130
        return 2 if self.failed else 0


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

    Returns
    -------
    BatchResult
        With ``interrupted=True`` after Ctrl-C: the summaries then hold what finished.

    Raises
    ------
    ParameterError
        ``jobs`` below 1, or no recordings found at all.
    """
    out = Path(out)
    if jobs is not None and jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} is a file, not a folder")
    jobs = jobs or os.cpu_count() or 1
    scripts = Path(scripts_dir) if scripts_dir is not None else None
    if scripts is not None and not scripts.is_dir():
        raise ParameterError(f"--scripts {scripts} is not a folder")

    files, problems = discover(inputs)
    if not files and not problems:
        raise ParameterError("no recordings given")
    recordings = plan(files, scripts_dir=scripts, trainee_mode=settings.trainee)
    formats = available_formats()
    s_digest = settings_digest(settings, formats)
    states = {r.id: read_state(out, r.id) for r in recordings}
    names = assign_report_names(recordings, {rid: st["name"] for rid, st in states.items() if st and st.get("name")})

    rows: dict[str, dict[str, Any]] = {}
    statuses: dict[str, str] = {}
    digests: dict[str, tuple[str | None, str | None]] = {}
    tasks: list[Task] = []
    by_id = {r.id: r for r in recordings}
    for r in recordings:
        try:
            digests[r.id] = (file_digest(r.path), script_digest(r.script))
        except OSError as exc:
            reason = str(exc.strerror or exc)
            rows[r.id] = _error_row(
                r, f"cannot read file ({reason})", code="cannot_read", params={"reason": reason}, lang=settings.lang
            )
            statuses[r.id] = "failed"
            continue
        st = states[r.id]
        if not force and st is not None and _unchanged(st, digests[r.id], s_digest, out, names[r.id], r):
            rows[r.id] = _with_identity(_stored_row(st["row"]), r)
            statuses[r.id] = "skipped-failed" if st["row"].get("error") else "skipped"
            continue
        tasks.append(Task(r.id, str(r.path), str(r.script) if r.script else None, str(out), names[r.id], formats, settings))

    del states  # only the names and the skip decisions were needed; keep the parent small
    n_skipped = sum(s.startswith("skipped") for s in statuses.values())
    counts = {"analysed": 0, "failed": sum(s != "skipped" for s in statuses.values())}
    t0 = time.perf_counter()
    total = len(recordings)

    def emit(file: str | None = None, error: str | None = None) -> None:
        if progress is not None:
            progress(
                Progress(
                    total=total,
                    done=len(statuses),
                    analysed=counts["analysed"],
                    skipped=n_skipped,
                    failed=counts["failed"],
                    to_analyse=len(tasks),
                    elapsed_s=time.perf_counter() - t0,
                    file=file,
                    error=error,
                )
            )

    def on_done(task: Task, oc: Outcome) -> None:
        r = by_id[task.rid]
        if oc.error is not None:
            row = _error_row(r, oc.error, code=oc.code, params=oc.params, message=oc.message, lang=settings.lang)
            statuses[r.id] = "failed"
            counts["failed"] += 1
        else:
            row = _with_identity(dict(oc.row), r)
            row["report_json"] = oc.outputs.get("json", "")
            row["report_html"] = oc.outputs.get("html", "")
            statuses[r.id] = "analysed"
            counts["analysed"] += 1
        rows[r.id] = row
        if oc.error is None or oc.cacheable:
            audio_d, script_d = digests[r.id]
            entry = {
                "version": STATE_VERSION,
                "audio": os.path.abspath(r.path),
                "audio_sha256": audio_d,
                "script": os.path.abspath(r.script) if r.script else None,
                "script_sha256": script_d,
                "settings_sha256": s_digest,
                "name": task.name,
                "outputs": oc.outputs,
                "row": {k: v for k, v in row.items() if k not in ("trainee", "file", "recorded")},
                "seconds": round(oc.seconds, 3),
                "finished": _now(),
            }
            write_atomic(_state_path(out, r.id), json.dumps(entry, ensure_ascii=False, indent=1))
        emit(str(r.path), oc.error)

    emit()
    interrupted = False
    try:
        if jobs == 1 or len(tasks) <= 1:
            for t in tasks:
                on_done(t, analyse_one(t))
        else:
            _run_pool(tasks, min(jobs, len(tasks)), on_done)
    except KeyboardInterrupt:
        interrupted = True

    problem_rows = [_problem_row(p, settings.lang) for p in problems]
    result_rows = _sorted_rows(list(rows.values()) + problem_rows)
    write_summaries(out, result_rows, settings)
    elapsed = time.perf_counter() - t0
    log = {
        "finished": _now(),
        "interrupted": interrupted,
        "elapsed_s": round(elapsed, 3),
        "jobs": jobs,
        "counts": {
            "total": total + len(problems),
            "analysed": counts["analysed"],
            "skipped": n_skipped,
            "failed": counts["failed"] + len(problems),
            "not_finished": total - len(statuses),
        },
        "recordings": {str(by_id[rid].path): s for rid, s in statuses.items()},
        "input_problems": [{"input": p.input, "problem": p.problem} for p in problems],
    }
    write_atomic(out / STATE_DIR / "last-run.json", json.dumps(log, ensure_ascii=False, indent=1))
    return BatchResult(
        out=out,
        total=total + len(problems),
        analysed=counts["analysed"],
        skipped=n_skipped,
        failed=counts["failed"] + len(problems),
        interrupted=interrupted,
        elapsed_s=elapsed,
        rows=result_rows,
        statuses={str(by_id[rid].path): s for rid, s in statuses.items()},
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


def _with_identity(row: dict[str, Any], r: Recording) -> dict[str, Any]:
    row["trainee"] = r.trainee
    row["file"] = str(r.path)
    row["recorded"] = _mtime_iso(r.path)
    return row


def _error_fields(
    error: str, *, code: str | None = None, params: dict[str, Any] | None = None, message: str | None = None, lang: str | None = None
) -> dict[str, Any]:
    """A row's error fields (see the module docstring); ``message`` is made from ``lang`` when not given."""
    from .locales import error_text

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
    row.update({"trainee": "", "file": p.input, "check": "error", "check_reasons": [], "recorded": None})
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


def _sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = []
    for row in sorted(rows, key=lambda r: (r.get("trainee") or "", r.get("file") or "")):
        first = {c: row.get(c) for c in CSV_COLUMNS}
        first.update({k: v for k, v in row.items() if k not in first})
        ordered.append(first)
    return ordered


# --------------------------------------------------------------------------- summaries


def trainee_progress(rows: Sequence[dict[str, Any]], target_cpm: float) -> list[dict[str, Any]]:
    """Per trainee: attempts, and the first vs the latest successful attempt.

    Attempts are ordered by the recording file's modification time (``recorded``), ties
    broken by file name.
    """
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("trainee"):
            by.setdefault(r["trainee"], []).append(r)
    out = []
    for name in sorted(by):
        attempts = sorted(by[name], key=lambda r: (r.get("recorded") or "", r.get("file") or ""))
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


def build_summary(rows: Sequence[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """The ``summary.json`` document (schema ``speechcoach.batch/1``)."""
    ok = [r for r in rows if not r.get("error")]
    return {
        "schema": SUMMARY_SCHEMA,
        "generator": f"speechcoach {__version__}",
        "created": _now(),
        "lang": settings.lang,
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


def summary_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """``summary.csv``: the :data:`CSV_COLUMNS` of every row, UTF-8 with BOM (for Excel)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in CSV_COLUMNS])
    return buf.getvalue().encode("utf-8-sig")


def write_summaries(out: Path, rows: Sequence[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """Write ``summary.csv``, ``summary.json`` and ``index.html`` atomically; returns the summary."""
    from .render.index import render_index

    summary = build_summary(rows, settings)
    write_atomic(out / "summary.csv", summary_csv(rows))
    write_atomic(out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    write_atomic(out / "index.html", render_index(summary))
    return summary
