"""A bounded pool of inference workers: one Analyzer replica per thread (own detector, shared model), a cap on
how many requests may wait, and nothing that blocks the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
from concurrent.futures import ThreadPoolExecutor

from ferkit.infer.analyzer import Analyzer


class Busy(Exception):
    """More requests are waiting than the pool accepts; the client should retry later (HTTP 503)."""


def split_threads(workers: int) -> int:
    """CPU threads per worker so that the workers together use each core about once."""
    return max(1, (os.cpu_count() or 1) // workers)


class AnalyzerPool:
    def __init__(self, analyzer: Analyzer, workers: int = 2, max_waiting: int = 32) -> None:
        if workers < 1:
            raise ValueError(f"workers must be 1 or more, not {workers}")
        self.workers, self.max_waiting = workers, max_waiting
        self.analyzer = analyzer
        self._free: queue.SimpleQueue[Analyzer] = queue.SimpleQueue()
        self._free.put(analyzer)
        for _ in range(workers - 1):
            self._free.put(analyzer.replica())
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="ferkit-infer")
        self._waiting = 0  # admitted requests, running or waiting; only touched on the event loop's thread

    @property
    def full(self) -> bool:
        return self._waiting >= self.max_waiting + self.workers

    @contextlib.contextmanager
    def admit(self):
        """Reserve a place for one request, or raise Busy at once. The server admits a request before it reads the
        upload, so a rejection costs no reading, parsing or decoding."""
        if self.full:
            raise Busy(f"{self._waiting} requests are in progress or waiting; retry in a moment")
        self._waiting += 1
        try:
            yield
        finally:
            self._waiting -= 1

    async def execute(self, job, *args):
        """`job(analyzer, *args)` on a worker thread with an analyzer of its own (the caller has been admitted)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._call, job, args)

    async def run(self, job, *args):
        """Admit, then execute: raises Busy when the queue is full."""
        with self.admit():
            return await self.execute(job, *args)

    def _call(self, job, args):
        analyzer = self._free.get()
        try:
            return job(analyzer, *args)  # prediction runs under no_grad itself; Grad-CAM needs gradients
        finally:
            self._free.put(analyzer)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
