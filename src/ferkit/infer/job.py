"""The predict job: sources -> records -> writers, resumable after a kill at any moment.

Each finished source's records go to a part file of the job's state folder (written atomically), so a source is
done exactly when its part exists. JSON Lines and CSV outputs are assembled from the parts in the sources' order,
each written to a temporary file and renamed into place; a re-run of the same command skips the sources that are
done, finishes the rest and assembles again. A half-done video restarts from its first frame (face tracks and
smoothing depend on every frame before, so resuming mid-video would not give an uninterrupted run's records).

The state folder sits beside the first file output: `.OUT.job/` for `--json OUT` (or `--csv OUT`), else
`DIR/.ferkit-job/` inside `--save` or `--timeline`. It holds `manifest.json` (sources and settings: a re-run with
other settings is refused) and `parts/`.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ferkit import __version__
from ferkit.errors import FerkitError
from ferkit.fileio import atomic_path, atomic_write_text, remove_leftover_temps
from ferkit.infer.images import VIDEO_SUFFIXES

Record = dict  # {"source", "frame", "time", "faces", "error"}: one JSON line


@dataclass(frozen=True)
class PredictSettings:
    """Everything that decides a source's records: a job is resumed only under the same settings."""

    model: str = "default"
    detector: str = "mtcnn"
    min_face: int = 20
    min_score: float | None = None
    tta: str = "none"
    batch: int = 64
    stride: int = 1
    detect_every: int = 1
    smooth: float = 0.0
    runtime: str = "auto"  # what computes the classifier: the same logits within 1e-4, so not part of a job's identity


# Settings a resumed job may change: they do not change its records.
RESUMABLE_WITH_OTHER = ("runtime",)


@dataclass(frozen=True)
class Outputs:
    json: Path | None = None
    csv: Path | None = None
    save: Path | None = None  # annotated images and videos
    timeline: Path | None = None  # per-video timelines (CSV + PNG)

    def state_folder(self) -> Path | None:
        for path in (self.json, self.csv):
            if path is not None:
                return path.with_name(f".{path.name}.job")
        for folder in (self.save, self.timeline):
            if folder is not None:
                return folder / ".ferkit-job"
        return None  # stdout only: nothing to resume


@dataclass
class JobSummary:
    sources: int
    skipped: int  # done by an earlier run of the job
    failed: int  # sources with an error record
    records: int
    failures: list[str] = field(default_factory=list)


def is_video(source: str) -> bool:
    return source.isdigit() or Path(source).suffix.lower() in VIDEO_SUFFIXES


def annotated_names(sources: list[str]) -> list[str]:
    """The file name of each source's annotated copy: <stem>.png (or .mp4), -2, -3... for repeated stems. Fixed
    by the source list alone, so that parallel workers and resumed runs agree on them."""
    taken, names = set(), []
    for source in sources:
        stem = f"camera{source}" if source.isdigit() else Path(source).stem
        suffix = ".mp4" if is_video(source) else ".png"
        name, n = f"{stem}{suffix}", 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}{suffix}"
        taken.add(name)
        names.append(name)
    return names


def error_record(source: str, exc: BaseException) -> Record:
    message = str(exc) if isinstance(exc, FerkitError) else f"{source}: {type(exc).__name__}: {exc}"
    return {"source": source, "frame": None, "time": None, "faces": [], "error": " ".join(message.split())}


def process_source(analyzer, source: str, settings: PredictSettings, outputs: Outputs, name: str) -> Iterator[Record]:
    """The records of one source, as they come (a video's frame by frame). A failure ends the source with an error
    record naming it: one bad input never costs the rest of the job."""
    try:
        if is_video(source):
            yield from _video_records(analyzer, source, settings, outputs, name)
            return
        faces = analyzer.analyze(source)
        yield {"source": source, "frame": None, "time": None, "faces": [f.to_dict() for f in faces], "error": None}
        if outputs.save is not None:
            save_annotated(Path(source), faces, outputs.save / name)
    except Exception as exc:  # noqa: BLE001  reported as the source's error record
        yield error_record(source, exc)


def _video_records(analyzer, source: str, settings: PredictSettings, outputs: Outputs, name: str):
    from ferkit.infer.video import Timeline, analyze_video

    capture = int(source) if source.isdigit() else source
    if isinstance(capture, str) and not Path(source).is_file():
        raise FerkitError(f"{source}: no such file")
    stem = name.rsplit(".", 1)[0]
    save = outputs.save / name if outputs.save is not None else None
    timeline = None
    if outputs.timeline is not None:
        timeline = Timeline(outputs.timeline / f"{stem}_timeline.csv", outputs.timeline / f"{stem}_timeline.png")
    results = analyze_video(analyzer, capture, settings.stride, settings.smooth, save, settings.detect_every)
    try:
        for result in results:
            if timeline is not None:
                timeline.add(result)
            yield {"source": source, "frame": result.frame, "time": result.time,
                   "faces": [f.to_dict() for f in result.faces], "error": None}  # fmt: skip
    finally:  # a webcam stopped with Ctrl-C still gets the timeline of what was seen
        if timeline is not None:
            timeline.close()


def save_annotated(path: Path, faces, target: Path) -> Path:
    """The image with its faces drawn, written atomically as `target` (PNG)."""
    from PIL import Image

    from ferkit.infer.draw import draw_faces
    from ferkit.infer.images import read_rgb

    with atomic_path(target) as tmp:
        Image.fromarray(draw_faces(read_rgb(path), faces)).save(tmp, format="PNG")
    return target


class JobState:
    """The state folder: the manifest, and one part file (JSON Lines) per finished source."""

    def __init__(self, folder: Path | None, sources: list[str], settings: PredictSettings, fresh: bool) -> None:
        self.folder, self.sources = folder, sources
        self.manifest = {"ferkit": __version__, "settings": asdict(settings), "sources": sources}
        self._memory: dict[int, list[Record]] = {}  # the parts, when there is no folder to keep them in
        if folder is None:
            return
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        manifest = folder / "manifest.json"
        if manifest.is_file():
            self._check_same_job(json.loads(manifest.read_text()))
        else:
            (folder / "parts").mkdir(parents=True, exist_ok=True)
            atomic_write_text(manifest, json.dumps(self.manifest, indent=1))

    def _check_same_job(self, saved: dict) -> None:
        changed = [k for k, v in self.manifest["settings"].items()
                   if k not in RESUMABLE_WITH_OTHER and saved.get("settings", {}).get(k) != v]  # fmt: skip
        if saved.get("sources") != self.sources:
            changed.append(f"sources ({len(saved.get('sources', []))} then, {len(self.sources)} now)")
        if changed:
            raise FerkitError(f"{self.folder} holds a job with another {', '.join(changed)}; re-run it as it was, "
                              "or add --fresh to start this one over")  # fmt: skip

    def part(self, index: int) -> Path:
        return self.folder / "parts" / f"{index:07d}.jsonl"

    def done(self, index: int) -> bool:
        return index in self._memory if self.folder is None else self.part(index).is_file()

    def write(self, index: int, records: list[Record]) -> None:
        if self.folder is None:
            self._memory[index] = records
            return
        text = "".join(json.dumps(r) + "\n" for r in records)
        atomic_write_text(self.part(index), text)

    def read(self, index: int) -> list[Record]:
        if self.folder is None:
            return self._memory[index]
        return [json.loads(line) for line in self.part(index).read_text().splitlines() if line]

    def records(self) -> Iterator[Record]:
        """Every finished source's records, in the sources' order."""
        for index in range(len(self.sources)):
            if self.done(index):
                yield from self.read(index)


def write_outputs(state: JobState, outputs: Outputs, classes: tuple[str, ...]) -> None:
    """JSON Lines and CSV assembled from the parts, each renamed into place only once complete."""
    if outputs.json is not None:
        with atomic_path(outputs.json) as tmp, open(tmp, "w", encoding="utf-8") as f:
            for record in state.records():
                f.write(json.dumps(record) + "\n")
    if outputs.csv is not None:
        with atomic_path(outputs.csv) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["source", "frame", "face", "x", "y", "w", "h", "score", "label", *classes])
            for r in state.records():
                for i, face in enumerate(r["faces"]):
                    writer.writerow([r["source"], r["frame"], i, *face["box"], face["score"], face["label"],
                                     *(face["probs"].get(c) for c in classes)])  # fmt: skip


def print_record(record: Record) -> None:
    print(json.dumps(record), flush=True)


def run_job(sources: Iterable[str], settings: PredictSettings, outputs: Outputs, workers: int = 1,
            ray_address: str | None = None, emit: Callable[[Record], None] = print_record, fresh: bool = False,
            progress: bool = True) -> JobSummary:  # fmt: skip
    """Run (or resume) the job: every source's records to `emit` as they come and, at the end, to the outputs.

    `workers` > 1 spreads the sources over that many processes; `ray_address` over a Ray cluster instead.
    """
    from ferkit.models.checkpoint import read_meta

    sources = [str(s) for s in sources]
    classes = tuple(read_meta(settings.model)["classes"])
    state = JobState(outputs.state_folder(), sources, settings, fresh)
    todo = [i for i in range(len(sources)) if not state.done(i)]
    names = annotated_names(sources)
    for folder in (outputs.save, outputs.timeline):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    remove_job_temps(outputs, state, names)
    if todo:
        bar = _progress(len(sources), len(sources) - len(todo), progress)
        if ray_address is not None:
            from ferkit.infer.cluster import run_on_ray

            finished = run_on_ray(ray_address, todo, sources, names, settings, outputs)
        elif workers > 1:
            from ferkit.infer.parallel import run_in_processes

            finished = run_in_processes(workers, todo, sources, names, settings, outputs)
        else:
            finished = _run_here(todo, sources, names, settings, outputs, emit)
        for index, records, streamed in finished:
            state.write(index, records)
            if not streamed:
                for record in records:
                    emit(record)
            bar.update(1)
        bar.close()
    write_outputs(state, outputs, classes)
    failures = [r["error"] for r in state.records() if r["error"]]
    return JobSummary(len(sources), len(sources) - len(todo), len(failures), sum(1 for _ in state.records()),
                      failures)  # fmt: skip


def remove_job_temps(outputs: Outputs, state: JobState, names: list[str]) -> None:
    """The temp files a killed run of this job left beside its outputs: a resumed run ends with exactly an
    uninterrupted run's files."""
    stems = [name.rsplit(".", 1)[0] for name in names]
    owned: dict[Path, set[str]] = {}
    for path in (outputs.json, outputs.csv):
        if path is not None:
            owned.setdefault(path.parent, set()).add(path.name)
    if outputs.save is not None:
        owned.setdefault(outputs.save, set()).update(names)
    if outputs.timeline is not None:
        timelines = {f"{stem}_timeline.{ext}" for stem in stems for ext in ("csv", "png")}
        owned.setdefault(outputs.timeline, set()).update(timelines)
    if state.folder is not None:
        owned.setdefault(state.folder / "parts", set()).update(state.part(i).name for i in range(len(names)))
    for folder, targets in owned.items():
        remove_leftover_temps(folder, targets)


def _run_here(todo, sources, names, settings: PredictSettings, outputs: Outputs, emit):
    """This process: one Analyzer; a source's records are emitted as they come (a video frame by frame)."""
    analyzer = make_analyzer(settings)
    for index in todo:
        records = []
        try:
            for record in process_source(analyzer, sources[index], settings, outputs, names[index]):
                records.append(record)
                emit(record)
        except KeyboardInterrupt:
            if not sources[index].isdigit():
                raise  # a file stopped half-way is not done: it runs again next time
            # a webcam ends with Ctrl-C: what was seen is its result
        yield index, records, True


def make_analyzer(settings: PredictSettings, threads: int | None = None):
    from ferkit.infer.analyzer import Analyzer

    return Analyzer(settings.model, settings.detector, settings.min_face, settings.tta, batch=settings.batch,
                    threads=threads, min_score=settings.min_score, runtime=settings.runtime)  # fmt: skip


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, done: int, enabled: bool):
    if not enabled or total < 2:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc="predict", unit=" sources", file=sys.stderr, disable=None)
