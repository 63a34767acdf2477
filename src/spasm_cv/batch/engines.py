"""Running a batch's videos: a local process pool, or tasks on a Ray cluster.

Each video is one task running the serial pipeline (:func:`analyze_video`, one landmarker
per worker process at a time). A task never raises: a failure becomes an ``error`` outcome
and the batch goes on. The local engine also survives a worker process dying (a crash in
native code): the videos it was running are retried alone, and one that kills its worker
again is recorded as an error.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from spasm_cv._private import use_owner_only_umask
from spasm_cv.errors import SpasmCvError, Terminated, interrupt_reason
from spasm_cv.results.deidentify import Deidentify
from spasm_cv.results.summary import Summary

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class VideoTask:
    """What a worker needs to analyse one video (plain strings: picklable anywhere)."""

    name: str
    video: str
    out_dir: str
    mirrored: bool = False
    model_path: str | None = None
    deidentify: Deidentify | None = None  # write the result folder de-identified
    private: bool = False  # owner-only files (also on Ray nodes, which have their own umask)
    params: dict | None = None  # detection parameters by name (None: the defaults)


@dataclass(frozen=True)
class VideoOutcome:
    """What became of one video: ``status`` is ``ok``, ``error`` or ``interrupted``."""

    name: str
    video: str
    out_dir: str
    status: str
    error: str | None = None
    summary: Summary | None = None
    elapsed_s: float = 0.0


def run_task(task: VideoTask) -> VideoOutcome:
    """Analyse one video and write its result folder; never raises an Exception."""
    from spasm_cv.pipeline import analyze_video
    from spasm_cv.results.params import build_params

    if task.private:
        use_owner_only_umask()
    start = time.perf_counter()
    try:
        result = analyze_video(
            task.video,
            task.out_dir,
            mirrored=task.mirrored,
            model_path=task.model_path,
            deidentify=task.deidentify,
            params=build_params(task.params),
        )
    except SpasmCvError as exc:
        return _failed(task, str(exc), start)
    except Exception as exc:  # noqa: BLE001 - one video's failure must not stop the batch
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno}" if last else ""
        return _failed(task, f"internal error: {type(exc).__name__}: {exc}{where}", start)
    summary = result.recording.summary
    status = "ok" if summary.complete else "interrupted"
    why = f"interrupted ({summary.interrupted}): partial result in {result.out_dir}"
    return VideoOutcome(
        task.name,
        task.video,
        str(result.out_dir),
        status,
        None if status == "ok" else why,
        summary,
        time.perf_counter() - start,
    )


def _failed(task: VideoTask, message: str, start: float | None = None) -> VideoOutcome:
    one_line = " ".join(message.split())
    elapsed = 0.0 if start is None else time.perf_counter() - start
    return VideoOutcome(task.name, task.video, task.out_dir, "error", one_line, None, elapsed)


def _init_local_worker(parent: int) -> None:
    from spasm_cv._native import silence_native_stderr
    from spasm_cv._processes import exit_with_parent, raise_on_sigterm

    silence_native_stderr()
    raise_on_sigterm()  # SIGTERM (forwarded, or sent to the group) stops a video as Ctrl-C
    exit_with_parent(parent)  # the batch was killed: its unfinished videos are redone on resume


def run_local(tasks: list[VideoTask], jobs: int) -> Iterator[VideoOutcome]:
    """Run tasks in ``jobs`` spawned worker processes; yield outcomes as they finish.

    Closing the generator early (e.g. on KeyboardInterrupt) cancels the videos not started.
    """
    ctx = multiprocessing.get_context("spawn")
    todo: deque[VideoTask] = deque(tasks)
    suspects: deque[VideoTask] = deque()  # were running when a worker died: retried alone
    crashes: dict[str, int] = {}
    while todo or suspects:
        pool = ProcessPoolExecutor(
            max_workers=max(1, min(jobs, len(todo))),
            mp_context=ctx,
            initializer=_init_local_worker,
            initargs=(os.getpid(),),
        )
        running: dict[Future, VideoTask] = {}
        try:
            broken = False
            while not broken and (todo or suspects or running):
                if suspects:
                    if not running:  # a suspect runs with no other video beside it
                        task = suspects.popleft()
                        running[pool.submit(run_task, task)] = task
                else:
                    while todo and len(running) < jobs:
                        task = todo.popleft()
                        running[pool.submit(run_task, task)] = task
                try:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt as exc:
                    yield from _interrupt(pool, running, exc)
                    raise
                for fut in done:
                    if isinstance(fut.exception(), BrokenProcessPool):
                        broken = True
                        continue
                    task = running.pop(fut)
                    yield fut.result()
            for fut, task in list(running.items()):  # the pool broke: these died with it
                if fut.done() and fut.exception() is None:
                    yield fut.result()
                    continue
                crashes[task.name] = crashes.get(task.name, 0) + 1
                if crashes[task.name] >= 2:
                    yield _failed(
                        task,
                        "the worker process died while analysing this video "
                        "(a crash in native code?)",
                    )
                else:
                    suspects.append(task)
            running.clear()
        finally:
            for fut in running:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


def _interrupt(pool: ProcessPoolExecutor, running: dict[Future, VideoTask], exc: BaseException):
    """Ctrl-C or SIGTERM: pass the signal on to the workers (as the terminal does with
    Ctrl-C), then collect what they kept.

    A worker interrupted inside a video writes what it measured to ``<out>.partial``.
    """
    signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
    why = f"interrupted ({interrupt_reason(exc)})"
    for fut in running:
        fut.cancel()
    for pid in list(getattr(pool, "_processes", None) or {}):
        with contextlib.suppress(OSError):
            os.kill(pid, signum)
    for fut, task in running.items():
        try:
            yield fut.result(timeout=60)
        except BaseException:  # noqa: BLE001 - cancelled, or the worker died on the signal
            yield VideoOutcome(task.name, task.video, task.out_dir, "interrupted", why)
    running.clear()


def run_ray(
    tasks: list[VideoTask], jobs: int | None, address: str | None = None
) -> Iterator[VideoOutcome]:
    """Run tasks on a Ray cluster (``address``) or on a local Ray instance of ``jobs`` CPUs.

    If Ray is already initialised (e.g. by a test or a notebook), that instance is used.
    On a cluster, the videos and the output folder must be at the same paths on every node
    (a shared filesystem) and spasm-cv must be installed there.
    """
    try:
        import ray
    except ImportError:
        raise SpasmCvError("the ray engine needs Ray: pip install 'spasm-cv[ray]'") from None
    started = False
    if not ray.is_initialized():
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
        try:
            quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
            if address:
                ray.init(address=address, **quiet)
            else:
                ray.init(num_cpus=jobs, include_dashboard=False, **quiet)
        except Exception as exc:  # noqa: BLE001 - e.g. no cluster at that address
            raise SpasmCvError(f"cannot start or reach Ray ({address or 'local'}): {exc}") from None
        started = True
    remote = ray.remote(num_cpus=1, max_retries=1)(run_task)
    refs = {remote.remote(t): t for t in tasks}
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    outcome = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - the worker died: task lost
                    outcome = _failed(refs[ref], f"ray task failed: {type(exc).__name__}: {exc}")
                yield outcome
    finally:
        for ref in pending:  # closed early (Ctrl-C): drop the videos not finished
            ray.cancel(ref)
        if started:
            ray.shutdown()


def run_batch(
    tasks: list[VideoTask],
    engine: str = "local",
    jobs: int = 1,
    address: str | None = None,
    on_outcome: Callable[[VideoOutcome], None] | None = None,
) -> list[VideoOutcome]:
    """Run every task on ``engine``; outcomes in the order of ``tasks``.

    On KeyboardInterrupt the videos not finished are returned as ``interrupted``.
    """
    if engine not in ENGINES:
        raise SpasmCvError(f"unknown engine {engine!r} (choose {' or '.join(ENGINES)})")
    if not tasks:
        return []
    outcomes: dict[str, VideoOutcome] = {}
    runner = run_local(tasks, jobs) if engine == "local" else run_ray(tasks, jobs, address)
    why = "interrupted"
    try:
        for outcome in runner:
            outcomes[outcome.name] = outcome
            if on_outcome is not None:
                on_outcome(outcome)
    except KeyboardInterrupt as exc:  # the runner has collected what was running
        why = f"interrupted ({interrupt_reason(exc)})"
        runner.close()
    return [
        outcomes.get(t.name)
        or VideoOutcome(t.name, t.video, t.out_dir, "interrupted", f"{why} before it started")
        for t in tasks
    ]
