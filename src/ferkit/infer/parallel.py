"""A predict job over several local processes: each with its own Analyzer and its share of the CPU threads.

Workers return each source's records to the parent, which alone writes the job's state, so a worker killed
mid-source loses only that source's work (it stays not done and runs again when the job is re-run).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ferkit.errors import FerkitError

_analyzer = None  # one per worker process


def _start_worker(settings, threads: int) -> None:
    import torch

    from ferkit.infer.job import make_analyzer

    global _analyzer
    torch.set_num_threads(threads)
    _analyzer = make_analyzer(settings, threads=threads)


def _work(index: int, source: str, name: str, settings, outputs) -> tuple[int, list[dict]]:
    from ferkit.infer.job import process_source

    return index, list(process_source(_analyzer, source, settings, outputs, name))


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


def run_in_processes(workers: int, todo: list[int], sources: list[str], names: list[str], settings, outputs):
    """Yield (index, records, streamed=False) as sources finish, at most 2 per worker in flight."""
    if any(sources[i].isdigit() for i in todo):
        raise FerkitError("a webcam runs in one process; drop --workers for it")
    context = multiprocessing.get_context("spawn")  # fork would copy torch's and OpenMP's threads mid-flight
    threads = threads_per_worker(workers)
    with ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=(settings, threads)) as pool:
        waiting, pending = list(reversed(todo)), set()
        while waiting or pending:
            while waiting and len(pending) < 2 * workers:
                i = waiting.pop()
                pending.add(pool.submit(_work, i, sources[i], names[i], settings, outputs))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    index, records = future.result()
                except BrokenProcessPool:
                    raise FerkitError("a worker process died; run the same command again to finish the job "
                                      "(finished sources are kept)") from None  # fmt: skip
                yield index, records, False
