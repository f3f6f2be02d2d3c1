"""A predict job over a Ray cluster: one worker actor per CPU, each with its own Analyzer (one thread).

The driver (the `ferkit predict` process) keeps the job's state: workers return each source's records, and the
driver writes the part file, so the resume rules are those of a local job. A source whose worker died (the node
lost, the process killed) is given to another worker, twice at most; after that it gets an error record.

Every node reads the sources and writes `--save` / `--timeline` files at the same paths as the driver, so on a
multi-machine cluster those paths must be on storage every node mounts (NFS, a cloud bucket mounted as a folder).
"""

from __future__ import annotations

import os

from ferkit.errors import FerkitError

RETRIES = 2  # times a source is given to another worker after its worker died
# For tests only: a worker handling a source whose path contains FERKIT_TEST_CRASH_ONCE's text exits at once, the
# first time (FERKIT_TEST_CRASH_DIR remembers that it did), so that the retry of a dead worker's source is tested.
CRASH_ONCE_ENV, CRASH_DIR_ENV = "FERKIT_TEST_CRASH_ONCE", "FERKIT_TEST_CRASH_DIR"


def _ray():
    try:
        import ray
    except ImportError:
        raise FerkitError("--ray needs Ray: pip install 'ferkit[ray]'") from None
    return ray


def connect(address: str) -> bool:
    """Join (or, for "local", start) a cluster; True when this call started it and should stop it."""
    ray = _ray()
    if ray.is_initialized():
        return False
    options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        if address == "local":  # a private cluster on this machine for this job, on loopback
            ray.init(address="local", num_cpus=os.cpu_count() or 1, _node_ip_address="127.0.0.1", **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise FerkitError(f"--ray {address}: cannot join the cluster ({exc})") from None
    return True


def _worker_class(ray):
    @ray.remote(num_cpus=1)
    class Worker:
        def __init__(self, settings) -> None:
            import torch

            from ferkit.infer.job import make_analyzer

            torch.set_num_threads(1)
            self.analyzer = make_analyzer(settings, threads=1)
            self.settings = settings

        def process(self, index: int, source: str, name: str, outputs) -> tuple[int, list[dict]]:
            from ferkit.infer.job import process_source

            _crash_once_for_tests(source)
            return index, list(process_source(self.analyzer, source, self.settings, outputs, name))

    return Worker


def _crash_once_for_tests(source: str) -> None:
    marker, folder = os.environ.get(CRASH_ONCE_ENV), os.environ.get(CRASH_DIR_ENV)
    if marker and folder and marker in source:
        flag = os.path.join(folder, "crashed")
        if not os.path.exists(flag):
            open(flag, "w").close()
            os._exit(1)


def run_on_ray(address: str, todo: list[int], sources: list[str], names: list[str], settings, outputs):
    """Yield (index, records, streamed=False) as sources finish anywhere on the cluster."""
    from ferkit.infer.job import error_record

    if any(sources[i].isdigit() for i in todo):
        raise FerkitError("a webcam belongs to one machine; drop --ray for it")
    ray = _ray()
    started = connect(address)
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        worker = _worker_class(ray)
        env = {k: v for k, v in os.environ.items() if k.startswith("FERKIT_")}
        actors = [worker.options(runtime_env={"env_vars": env}).remote(settings) for _ in range(min(cpus, len(todo)))]
        waiting, tries, running = list(reversed(todo)), dict.fromkeys(todo, 0), {}
        free = list(range(len(actors)))
        while waiting or running:
            while waiting and free:
                slot, index = free.pop(), waiting.pop()
                running[actors[slot].process.remote(index, sources[index], names[index], outputs)] = (slot, index)
            ready, _ = ray.wait(list(running), num_returns=1)
            slot, index = running.pop(ready[0])
            try:
                _, records = ray.get(ready[0])
            except ray.exceptions.RayActorError:  # the worker died: a fresh one takes its place and the source
                actors[slot] = worker.options(runtime_env={"env_vars": env}).remote(settings)
                tries[index] += 1
                if tries[index] <= RETRIES:
                    waiting.append(index)
                    free.append(slot)
                    continue
                records = [error_record(sources[index], FerkitError(f"{sources[index]}: its worker died "
                                                                    f"{tries[index]} times"))]  # fmt: skip
            free.append(slot)
            yield index, records, False
    finally:
        if started:
            ray.shutdown()
