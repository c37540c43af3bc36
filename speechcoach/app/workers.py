"""Analysing one recording of a batch, and running many of them on worker processes.

:func:`analyse_report` analyses one recording into its report, or a :class:`Failure` (the
one-line problem and its exit code), for ``batch`` and ``check`` alike; :func:`analyse_one` turns
a :class:`Task` into an :class:`Outcome` (the summary row, or an error) and writes the
recording's reports and then its state file (:attr:`Task.state`), so that a report on disk
always has the state a later run reuses it by, even when the batch itself is killed; neither
raises for a bad input. An output that cannot be written (a full disk, a file where a folder
should be) is not the recording's fault: the outcome carries the
:class:`~speechcoach.errors.OutputError` (:attr:`Outcome.output_error`) and the batch stops.
:func:`run_pool` runs tasks on a pool of worker processes and hands each outcome to the caller
as it arrives; the tasks a crashed worker had in flight are retried one by one in a fresh
process, and on Ctrl-C (or SIGTERM, which :func:`speechcoach.app.batch.run_batch` turns into a
``KeyboardInterrupt``) those in flight get :data:`INTERRUPT_GRACE_S` to finish before the
workers are stopped. A worker whose batch process dies, whatever the signal (``kill -9``
included), exits within :data:`ORPHAN_CHECK_S` (:func:`_watch_parent`).

:class:`Task`, :class:`Outcome` and :func:`analyse_one` cross between processes by pickling,
so they live at module level here. :mod:`speechcoach.app.batch` decides what to analyse and
records the outcomes.
"""

from __future__ import annotations

import datetime as _dt
import json
import multiprocessing as mp
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..errors import InputError, OutputError, SpeechcoachError
from ..fileio import write_atomic
from ..settings import Settings

if TYPE_CHECKING:
    from ..precise.cache import TranscriptCache

TASKS_PER_CHILD = 100
"""A worker process is replaced after this many recordings, so memory stays flat."""
INTERRUPT_GRACE_S = 2.0
"""On Ctrl-C (or SIGTERM), recordings already being analysed get this long to finish before workers are stopped."""
STOP_WAIT_S = 2.0
"""A worker process that has not ended this long after SIGTERM is killed."""
ORPHAN_CHECK_S = 0.5
"""Where the system cannot tell a worker that its batch process died (no ``pidfd``), the worker
looks this often (s); on Linux it is told at once."""


# --------------------------------------------------------------------------- one recording


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
    transcripts: str | None = None
    """Folder of the batch's transcript cache (:mod:`speechcoach.precise.cache`), ``None`` for none."""
    reuse_transcripts: bool = True
    """``False`` (``--force``) recomputes the transcript and stores it again."""
    state: dict[str, Any] | None = None
    """The fixed part of the recording's state entry (hashes, name; :mod:`speechcoach.app.batch`),
    which :func:`analyse_one` completes and writes to :attr:`state_path` right after the reports;
    ``None``: the caller records the outcome itself."""
    state_path: str | None = None
    link_audio: bool = False
    """The HTML report links to the recording (``--link-audio``) instead of carrying it."""


@dataclass
class Outcome:
    """What a worker sends back: the summary row, or an error.

    ``error`` is the English one-line problem (an English run's command line prints it), ``code``
    and ``params`` its stable code and values, ``message`` the problem in the batch's language
    (:attr:`Failure.message`); where it is ``None`` the summary row localises ``code``.
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
    transcript: str | None = None
    """``"reused"`` (from the transcript cache), ``"computed"`` (by the recogniser), or ``None``
    (precise mode did not run)."""
    state_written: bool = False
    """The worker wrote the recording's state file (:attr:`Task.state`)."""
    output_error: OutputError | None = None
    """A report or state file could not be written: the batch stops, naming that file; nothing is
    recorded against the recording (a later run redoes it)."""


def _failure(task: Task, error: str, *, code: str | None = None, params: dict[str, Any] | None = None,
             message: str | None = None, **kw: Any) -> Outcome:
    """An error :class:`Outcome` for ``task``. ``message`` only when the caller has localised
    it itself; otherwise the summary row makes it from ``code`` (``speechcoach.app.batch._error_fields``)."""
    return Outcome(task.rid, error=error, code=code, params=dict(params or {}), message=message, **kw)


def row_from_report(report: dict[str, Any]) -> dict[str, Any]:
    """The summary fields of one report (besides trainee, file and links).

    ``pace_cv`` is ``None`` (an empty cell) when the speech fits in one pace window: one window
    has nothing to vary against (the report's cv is 0 by construction, and the report says the
    recording is too short to judge the pace). The same rule as the uneven-pace finding.
    ``mid_phrase_pauses`` is the count the mid-phrase rule judges (:func:`speechcoach.app.check.judge`,
    as the score): pauses placed in the text, none when they were only guessed from the sound
    (the report's ``pause_method`` is ``"acoustic"``; its findings note them as possible
    hesitations). ``longest_pause_s`` (s; ``None`` without pauses) and ``pace_cv`` are the values the limits are judged on and every
    report shows (:func:`speechcoach.analysis.metrics.shown_s`, :func:`speechcoach.analysis.metrics.shown_cv`).
    """
    from .check import judge
    from ..analysis.metrics import several_windows, shown_cv, shown_s
    from ..analysis.placement import judged_mid_phrase

    pauses = report["pauses"]
    pace = report["pace"]
    j = judge(report, lang=report.get("lang"))
    # a recording whose script was set aside as not what was said has a report but no verdict
    # (check: ERROR), and then no judged numbers either: count its mid-phrase pauses here
    n_mid = judged_mid_phrase((p.get("placement") for p in pauses), report.get("pause_method", ""))
    return {
        "duration_s": round(float(report["input"]["duration_s"]), 2),
        "characters": int(report["characters"]["count"]),
        "char_source": report["characters"]["source"],
        "cpm": round(float(report["rate"]["cpm"]), 1),
        "articulation_cpm": round(float(report["rate"]["articulation_cpm"]), 1),
        "verdict": report["rate"]["verdict"],
        "pauses": len(pauses),
        "mid_phrase_pauses": int(n_mid),  # what the rule counts: 0 when only guessed from the sound
        "longest_pause_s": shown_s(max(p["duration_s"] for p in pauses)) if pauses else None,
        "pace_cv": shown_cv(float(pace["cv"])) if several_windows(pace["series"]) else None,
        "score": int(report["score"]),
        "check": j.status.lower(),  # pass, fail, or error (the script set aside: nothing judged)
        "check_reasons": [j.error] if j.error is not None else list(j.reasons),
        "error": "",
        "error_code": "",
    }


@dataclass(frozen=True)
class Failure:
    """Why one recording could not be analysed (:func:`failure_of`).

    Attributes
    ----------
    error : str
        The problem in English on one line (an English run's command line prints it): without the
        file's name when the recording itself is at fault, ``PATH: problem`` when another file is (its
        script, a report that cannot be written).
    message : str
        The same in the output language (``locales/*.toml`` ``[errors]``), one line.
    code : str or None
        The problem's stable code (its ``[errors]`` template), ``None`` when it has none.
    params : dict
        The values the template takes.
    cacheable : bool
        A bad input, which stays bad until the file changes (``batch`` remembers it); ``False``
        for what may go away on another run (a missing model, memory, a bug).
    exit_code : int
        2 for a bad input or option, 3 for an internal error (a bug, or out of memory).
    """

    error: str
    message: str
    code: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    cacheable: bool = False
    exit_code: int = 2


def failure_of(exc: BaseException, audio: str, lang: str) -> Failure:
    """The :class:`Failure` an exception raised while analysing (or reporting on) ``audio`` stands for.

    Parameters
    ----------
    exc : BaseException
        What was raised: an :class:`~speechcoach.errors.InputError` naming ``audio`` or another
        file, another :class:`~speechcoach.errors.SpeechcoachError`, ``MemoryError``, or
        anything else (an internal error).
    audio : str
        The recording, as named to the analysis.
    lang : {"zh", "en"}
        The language of :attr:`Failure.message`.
    """
    from ..locales import error_text

    if isinstance(exc, InputError):
        own = exc.path == audio  # else it names the script (or a report)
        return Failure(exc.problem if own else str(exc), error_text(exc, lang=lang, path=None if own else exc.path),
                       code=exc.code, params=exc.params, cacheable=True, exit_code=exc.exit_code)
    params: dict[str, Any] = {}
    if isinstance(exc, SpeechcoachError):
        error, code, exit_code = str(exc), None, exc.exit_code
    elif isinstance(exc, MemoryError):
        error, code, exit_code = "out of memory while analysing", "out_of_memory", 3
    else:  # a bug or an odd file
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        error, code, exit_code, params = f"internal error: {detail}", "internal_error", 3, {"detail": detail}
    return Failure(" ".join(error.split()), error_text(code, params, lang, fallback=error), code=code, params=params,
                   exit_code=exit_code)


def analyse_report(
    audio: str, script: str | None, settings: Settings, *, asr_cache: TranscriptCache | None = None
) -> dict[str, Any] | Failure:
    """One recording's report, or why it has none; never raises for a bad input.

    The same steps as ``speechcoach analyze``: :func:`~speechcoach.analysis.pipeline.read_script`,
    :func:`~speechcoach.analysis.pipeline.analyze_file`, :func:`~speechcoach.render.report.to_dict`. Every
    ``Exception`` becomes a :class:`Failure` (:func:`failure_of`); ``KeyboardInterrupt`` (Ctrl-C,
    and SIGTERM where the caller turns it into one) is raised.

    Parameters
    ----------
    audio : str
        The recording.
    script : str or None
        Its script file, or ``None`` (the characters are estimated from the sound).
    settings : Settings
    asr_cache : TranscriptCache, keyword-only, optional
        Where precise mode's transcript is looked up and kept (:mod:`speechcoach.precise.cache`).

    Returns
    -------
    dict or Failure
        A ``speechcoach.report/1`` dictionary, or the failure.
    """
    done = analyse_recording(audio, script, settings, asr_cache=asr_cache)
    return done if isinstance(done, Failure) else done[0]


def analyse_recording(
    audio: str, script: str | None, settings: Settings, *, asr_cache: TranscriptCache | None = None
) -> tuple[dict[str, Any], Any] | Failure:
    """:func:`analyse_report`, with the decoded recording (:class:`speechcoach.audio.Audio`) the
    report was made from beside the report: the HTML report embeds it."""
    try:
        from ..analysis.pipeline import analyze_file, read_script
        from ..render.report import to_dict

        text = read_script(script) if script is not None else None
        analysis = analyze_file(audio, script=text, settings=settings, asr_cache=asr_cache)
        return to_dict(analysis, script_path=script), analysis.audio
    except Exception as exc:  # a bug or an odd file must not stop a batch
        return failure_of(exc, audio, settings.lang)


def write_reports(task: Task, report: dict[str, Any], recording: Any = None) -> dict[str, str]:
    """Write ``report`` in each of the task's formats; the files written, by format (relative to ``task.out``).

    The HTML report carries ``recording`` (the decoded :class:`speechcoach.audio.Audio`),
    compressed (:func:`~speechcoach.render.media.embedded_recording`), so that a zipped
    ``results/`` folder still plays; with :attr:`Task.link_audio`, or when there is nothing to
    embed, its player links to the recording relative to the report's own folder
    (:func:`~speechcoach.render.html.audio_source`, as ``analyze --link-audio -o x.html`` does).
    """
    from ..render import render
    from ..render.html import audio_source
    from ..render.media import embedded_recording

    outputs: dict[str, str] = {}
    for fmt in task.formats:
        rel = f"{task.name}.{fmt}"
        dest = Path(task.out) / rel
        options = {}
        if fmt == "html":
            embedded = None if task.link_audio or recording is None else embedded_recording(recording.samples, recording.sr)
            options["audio_src"] = embedded or audio_source(task.audio, dest)
        write_atomic(dest, render(report, fmt, **options))
        outputs[fmt] = rel
    return outputs


def analyse_one(task: Task) -> Outcome:
    """Analyse one recording (:func:`analyse_report`), write its reports (:func:`write_reports`)
    and then its state (:func:`write_state`); never raises for a bad input. A file that cannot be
    written ends it with :attr:`Outcome.output_error`, never as the recording's failure."""
    from ..precise.cache import BATCH_MAX_BYTES, TranscriptCache

    t0 = time.perf_counter()
    cache = None if task.transcripts is None else TranscriptCache(Path(task.transcripts), BATCH_MAX_BYTES, task.reuse_transcripts)
    done = analyse_recording(task.audio, task.script, task.settings, asr_cache=cache)
    used = None if cache is None else ("computed" if cache.computed else "reused" if cache.reused else None)
    if isinstance(done, Failure):
        return _failed(task, done, seconds=time.perf_counter() - t0, transcript=used)
    report, recording = done
    try:
        row = row_from_report(report)
        outputs = write_reports(task, report, recording)
        seconds = time.perf_counter() - t0
        written = write_state(task, row, outputs, seconds=seconds, transcript=used)
        return Outcome(task.rid, row=row, outputs=outputs, seconds=seconds, transcript=used, state_written=written)
    except OutputError as exc:  # the disk, not the recording
        return Outcome(task.rid, error=exc.problem, code=exc.code, params=exc.params, cacheable=False,
                       seconds=time.perf_counter() - t0, transcript=used, output_error=exc)
    except Exception as exc:  # a bug in rendering
        return _failed(task, failure_of(exc, task.audio, task.settings.lang), seconds=time.perf_counter() - t0, transcript=used)


def write_state(task: Task, row: dict[str, Any], outputs: dict[str, str], *, seconds: float, transcript: str | None) -> bool:
    """Write the recording's state entry (:attr:`Task.state` completed with its summary row,
    outputs, time and transcript use) to :attr:`Task.state_path`; ``False`` when the task has none.

    Raises
    ------
    OutputError
        The state file cannot be written.
    """
    if task.state is None or task.state_path is None:
        return False
    entry = {
        **task.state,
        "outputs": outputs,
        "row": {**row, "report_json": outputs.get("json", ""), "report_html": outputs.get("html", "")},
        "seconds": round(seconds, 3),
        "transcript": transcript,
        "finished": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    write_atomic(task.state_path, json.dumps(entry, ensure_ascii=False, indent=1) + "\n")
    return True


def _failed(task: Task, f: Failure, **kw: Any) -> Outcome:
    """The error :class:`Outcome` of ``task`` for the failure ``f``."""
    return _failure(task, f.error, code=f.code, params=f.params, message=f.message, cacheable=f.cacheable, **kw)


def _internal(task: Task, exc: BaseException, **kw: Any) -> Outcome:
    """The error outcome of an exception a worker process raised instead of sending its outcome."""
    return _failed(task, failure_of(exc, task.audio, task.settings.lang), **kw)


# --------------------------------------------------------------------------- the pool


def _worker_init(parent: int | None = None) -> None:
    """Workers ignore Ctrl-C: the parent decides when they stop; and they exit when the batch
    process ``parent`` dies (:func:`_watch_parent`), whatever killed it.

    And tqdm (the progress bar faster-whisper makes, even when it shows none) gets a thread
    lock instead of its default, a named multiprocessing semaphore: a worker stopped in the
    middle of a recording (Ctrl-C, SIGTERM) cannot release that, and Python's resource tracker
    then printed "There appear to be N leaked semaphore objects" under the batch's last line.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        _watch_parent(parent)
    try:
        from tqdm import tqdm
    except ImportError:  # precise mode not installed: no progress bar either
        return
    tqdm.set_lock(threading.RLock())


def _watch_parent(pid: int) -> None:
    """End this process as soon as process ``pid`` (the batch) has ended.

    A pool's workers are not the batch's children but the fork server's, and neither is told
    when the batch is killed with SIGKILL: they would finish their recording (minutes with the
    recogniser) and keep the fork server and the resource tracker alive. A daemon thread waits
    on a ``pidfd`` of the batch (Linux 5.3 and later: woken the moment it ends) or, elsewhere,
    looks every :data:`ORPHAN_CHECK_S`; then the process exits at once (``os._exit``: a
    half-written report stays a temporary file, which the next run removes).
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:  # already gone
        os._exit(1)
    except OSError:  # not ours to signal (another user): nothing to watch
        return
    fd: int | None = None
    if hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            fd = None

    def wait() -> None:
        if fd is not None:
            import select

            select.select([fd], [], [])  # readable when the process has ended
            os._exit(1)
        while True:
            time.sleep(ORPHAN_CHECK_S)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass

    threading.Thread(target=wait, name="speechcoach-parent-watch", daemon=True).start()


def _mp_context() -> mp.context.BaseContext:
    """A fork server with the analysis preloaded where available (cheap worker restarts), else spawn."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["speechcoach.app.workers", "speechcoach.analysis.pipeline", "speechcoach.render.report", "speechcoach.render"])
        return ctx
    return mp.get_context("spawn")


def _new_pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=_mp_context(), initializer=_worker_init, initargs=(os.getpid(),),
        max_tasks_per_child=TASKS_PER_CHILD,
    )


def _stop_pool(ex: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what is queued and terminate its worker processes (killed if
    they are still alive :data:`STOP_WAIT_S` later), so none outlives the batch."""
    procs = _worker_processes(ex)  # before shutdown forgets them
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            p.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    for p in procs:
        try:
            p.join(timeout=STOP_WAIT_S)
            if p.is_alive():
                p.kill()
                p.join(timeout=STOP_WAIT_S)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


def _worker_processes(ex: ProcessPoolExecutor) -> list[mp.process.BaseProcess]:
    """The pool's worker processes, read from its private ``_processes``; empty if it has none.

    Private on purpose, and only here: ``shutdown(wait=False, cancel_futures=True)`` cancels
    queued tasks but leaves the running ones to finish, and the standard library has no public
    handle on a pool's workers. Python 3.14's ``terminate_workers()`` / ``kill_workers()``
    signal them but neither waits for them to end, and after the first the second finds no
    workers (shutdown forgets them), so terminate-wait-kill still needs the processes themselves.
    """
    return list((getattr(ex, "_processes", None) or {}).values())


def _isolated(task: Task) -> Outcome:
    """Re-run a task that was in flight when a worker died, alone in a fresh process."""
    ex = _new_pool(1)
    try:
        return ex.submit(analyse_one, task).result()
    except BrokenProcessPool:
        return _failure(task, "the analysis process crashed on this file", code="worker_crashed", cacheable=False)
    finally:
        _stop_pool(ex)


def run_pool(tasks: Sequence[Task], jobs: int, on_done: Callable[[Task, Outcome], None]) -> None:
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
