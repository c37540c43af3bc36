"""Analysing one recording of a batch, and running many of them on worker processes.

:func:`analyse_one` turns a :class:`Task` into an :class:`Outcome` (the summary row, or an
error) and writes the recording's reports; it never raises for a bad input. :func:`run_pool`
runs tasks on a pool of worker processes and hands each outcome to the caller as it arrives;
the tasks a crashed worker had in flight are retried one by one in a fresh process, and on
Ctrl-C (or SIGTERM, which :func:`speechcoach.batch.run_batch` turns into a ``KeyboardInterrupt``)
those in flight get :data:`INTERRUPT_GRACE_S` to finish before the workers are stopped.

:class:`Task`, :class:`Outcome` and :func:`analyse_one` cross between processes by pickling,
so they live at module level here. :mod:`speechcoach.batch` decides what to analyse and
records the outcomes.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import InputError, SpeechcoachError
from .fileio import write_atomic
from .settings import Settings

TASKS_PER_CHILD = 100
"""A worker process is replaced after this many recordings, so memory stays flat."""
INTERRUPT_GRACE_S = 2.0
"""On Ctrl-C (or SIGTERM), recordings already being analysed get this long to finish before workers are stopped."""
STOP_WAIT_S = 2.0
"""A worker process that has not ended this long after SIGTERM is killed."""


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
    it itself; otherwise the summary row makes it from ``code`` (``speechcoach.batch._error_fields``)."""
    return Outcome(task.rid, error=error, code=code, params=dict(params or {}), message=message, **kw)


def row_from_report(report: dict[str, Any]) -> dict[str, Any]:
    """The summary fields of one report (besides trainee, file and links).

    ``pace_cv`` is ``None`` (an empty cell) when the speech fits in one pace window: one window
    has nothing to vary against (the report's cv is 0 by construction, and the report says the
    recording is too short to judge the pace). The same rule as the uneven-pace finding.
    ``mid_phrase_pauses`` is the count the mid-phrase rule judges (:func:`speechcoach.check.judge`,
    as the score): pauses placed in the text, none when they were only guessed from the sound
    (the report's ``pause_method`` is ``"acoustic"``; its findings note them as possible
    hesitations). ``longest_pause_s`` (s) and ``pace_cv`` are the values the limits are judged on and every
    report shows (:func:`speechcoach.metrics.shown_s`, :func:`speechcoach.metrics.shown_cv`).
    """
    from .check import judge
    from .metrics import several_windows, shown_cv, shown_s

    pauses = report["pauses"]
    pace = report["pace"]
    j = judge(report, lang=report.get("lang"))
    return {
        "duration_s": round(float(report["input"]["duration_s"]), 2),
        "characters": int(report["characters"]["count"]),
        "char_source": report["characters"]["source"],
        "cpm": round(float(report["rate"]["cpm"]), 1),
        "articulation_cpm": round(float(report["rate"]["articulation_cpm"]), 1),
        "verdict": report["rate"]["verdict"],
        "pauses": len(pauses),
        "mid_phrase_pauses": int(j.numbers["mid_phrase"]),  # what the rule counts: 0 when only guessed from the sound
        "longest_pause_s": shown_s(max((p["duration_s"] for p in pauses), default=0.0)),
        "pace_cv": shown_cv(float(pace["cv"])) if several_windows(pace["series"]) else None,
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
    :func:`~speechcoach.render.render`, :func:`~speechcoach.fileio.write_atomic`. The HTML
    report's player links to the recording relative to the report's own folder
    (:func:`~speechcoach.render.html.audio_source`, as ``analyze -o x.html`` does).
    """
    t0 = time.perf_counter()
    try:
        from .pipeline import analyze_file, read_script
        from .render import render
        from .render.html import audio_source
        from .report import to_dict

        text = read_script(task.script) if task.script is not None else None
        analysis = analyze_file(task.audio, script=text, settings=task.settings)
        report = to_dict(analysis)
        del analysis
        outputs: dict[str, str] = {}
        for fmt in task.formats:
            rel = f"{task.name}.{fmt}"
            dest = Path(task.out) / rel
            options = {"audio_src": audio_source(task.audio, dest)} if fmt == "html" else {}
            write_atomic(dest, render(report, fmt, **options))
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


# --------------------------------------------------------------------------- the pool


def _worker_init() -> None:
    """Workers ignore Ctrl-C: the parent decides when they stop.

    And tqdm (the progress bar faster-whisper makes, even when it shows none) gets a thread
    lock instead of its default, a named multiprocessing semaphore: a worker stopped in the
    middle of a recording (Ctrl-C, SIGTERM) cannot release that, and Python's resource tracker
    then printed "There appear to be N leaked semaphore objects" under the batch's last line.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from tqdm import tqdm
    except ImportError:  # precise mode not installed: no progress bar either
        return
    tqdm.set_lock(threading.RLock())


def _mp_context() -> mp.context.BaseContext:
    """A fork server with the analysis preloaded where available (cheap worker restarts), else spawn."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["speechcoach.workers", "speechcoach.pipeline", "speechcoach.report", "speechcoach.render"])
        return ctx
    return mp.get_context("spawn")


def _new_pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=_mp_context(), initializer=_worker_init, max_tasks_per_child=TASKS_PER_CHILD
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
