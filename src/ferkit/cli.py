"""The `ferkit` command: parse, validate, call the Python API of the same name, print."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from ferkit import __version__
from ferkit.errors import FerkitError

EXIT_USAGE = 2  # bad input: a missing path, an unreadable dataset, strict-mode bad data


# choices as ferkit.models.runtime.RUNTIMES, written out: importing that module at start-up would load torch
RUNTIME_HELP = "classifier runtime: auto (onnxruntime on a CPU when it matches PyTorch), onnx or torch"
# ferkit.models.predict.TTA_MODES, written out for the same reason (a test keeps the two equal)
TTA_MODES = ("none", "flip", "tencrop", "multiscale")
TTA_HELP = "test-time augmentation: none, flip, tencrop (corners, centre, mirrored) or multiscale (4 zooms, mirrored)"


def _add_dataset_options(p: argparse.ArgumentParser) -> None:
    from ferkit.data import FORMATS

    p.add_argument("--format", default="auto", choices=("auto", *FORMATS), help="dataset format (default: detect)")
    p.add_argument("--strict", action="store_true", help="treat any bad item as an error instead of skipping it")
    p.add_argument("--fer2013", type=Path, help="FER2013's CSV, for FER+ labels not stored beside it")
    p.add_argument("--no-cache", action="store_true", help="parse the dataset again instead of using the disk cache")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ferkit",
        description="Facial expression recognition with CNNs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ferkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    data = commands.add_parser("data", help="inspect and convert datasets (FER2013, FER+, CK+, class folders)")
    data_commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", title="subcommands")
    info = data_commands.add_parser("info", help="split x class counts, image size and mode, problems found")
    info.add_argument("path", type=Path, help="dataset file or folder")
    info.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _add_dataset_options(info)
    info.set_defaults(func=cmd_data_info)

    convert = data_commands.add_parser("convert", help="FER2013 CSV <-> Kaggle folder layout (train/<emotion>/...)")
    convert.add_argument("src", type=Path, help="dataset to read (any format)")
    convert.add_argument("dst", type=Path, help="new folder, or a .csv / .csv.gz file")
    convert.add_argument("--to", choices=("fer2013-folder", "fer2013-csv"), help="default: from DST's name")
    convert.add_argument("--image-format", default="png", choices=("png", "jpg"), help="folder images (default png)")
    _add_dataset_options(convert)
    convert.set_defaults(func=cmd_data_convert)
    data.set_defaults(func=lambda args: _help(data))

    pr = commands.add_parser("predict", help="find faces in photos and read their expressions (JSON Lines, CSV)")
    pr.add_argument(
        "sources", nargs="+", help="images, videos, folders (searched recursively), globs, or a webcam index"
    )
    pr.add_argument(
        "--model", default="default", help="shipped model name (default, fast, best, ferplus) or checkpoint folder"
    )
    pr.add_argument("--detector", default="mtcnn", choices=("mtcnn", "haar"))
    pr.add_argument("--min-face", type=int, default=20, help="smallest face side in pixels (default 20)")
    pr.add_argument("--min-score", type=float, help="drop detections scoring less (default: 0.95 for MTCNN)")
    pr.add_argument("--tta", default="none", choices=TTA_MODES, help=TTA_HELP)
    pr.add_argument("--batch", type=int, default=64, help="faces per classifier batch (default 64)")
    pr.add_argument("--runtime", default="auto", choices=("auto", "onnx", "torch"), help=RUNTIME_HELP)
    pr.add_argument("--json", type=Path, help="also write the JSON Lines to this file (stdout always gets them)")
    pr.add_argument("--csv", type=Path, help="write one CSV row per face to this file")
    pr.add_argument("--save", type=Path, help="write annotated images and videos (boxes, labels, bars) here")
    pr.add_argument("--stride", type=int, default=1, help="video: analyse every n-th frame (default 1)")
    pr.add_argument(
        "--detect-every",
        type=int,
        default=1,
        metavar="N",
        help="video: find faces on every N-th analysed frame, reuse the boxes in between (default 1)",
    )
    pr.add_argument("--smooth", type=float, default=0.0, help="video: blend each track's probabilities over time, 0-1")
    pr.add_argument("--timeline", type=Path, help="video: write each track's probabilities over time (CSV, PNG) here")
    pr.add_argument("--workers", type=int, default=1, help="processes, each with its own detector (default 1)")
    pr.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="spread the sources over a Ray cluster: auto (the one this machine is in), local, host:port",
    )
    pr.add_argument("--fresh", action="store_true", help="start the job over instead of resuming it")
    pr.set_defaults(func=cmd_predict)

    rp = commands.add_parser("report", help="a predict job's records as one self-contained HTML page with plots")
    rp.add_argument("records", type=Path, help="the JSON Lines of ferkit predict --json")
    rp.add_argument("--out", type=Path, help="output folder (default: RECORDS's name + _report, beside it)")
    rp.add_argument("--thumbnails", type=int, default=200, help="photos shown as pictures (default 200)")
    rp.set_defaults(func=cmd_report)

    tr = commands.add_parser("train", help="train a CNN on a dataset; checkpoints, log, curves, calibration")
    tr.add_argument("--model", help="registered architecture (see ferkit shapes), default fastnet")
    tr.add_argument("--data", help="dataset file or folder (any format ferkit data info reads)")
    tr.add_argument("--config", type=Path, help="YAML config (sections data, model, augment, train; and out)")
    tr.add_argument("--out", help="output folder (default runs/train)")
    tr.add_argument("--epochs", type=int)
    tr.add_argument("--batch-size", type=int)
    tr.add_argument("--lr", type=float)
    tr.add_argument("--optimizer", choices=("sgd", "adamw"))
    tr.add_argument("--schedule", choices=("cosine", "onecycle", "plateau", "constant"))
    tr.add_argument("--device", help="auto, cpu or cuda")
    tr.add_argument("--seed", type=int)
    tr.add_argument("--init", help="start from this checkpoint (its head is replaced if the classes differ)")
    tr.add_argument("--freeze-epochs", type=int, help="train only the head for this many epochs first")
    tr.add_argument("--time-limit", type=float, help="minutes; stop after the epoch that crosses it")
    tr.add_argument(
        "--teacher",
        metavar="CKPT[,CKPT...]",
        help="distil from this model, or the average of several "
        "(train.kd_weight, train.kd_temperature, train.kd_loss, train.teacher_flip)",
    )
    tr.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp32"),
        help="auto (default): bf16 autocast where the GPU or CPU computes in bf16, else fp32",
    )
    tr.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    tr.add_argument("--kfold", type=int, metavar="K", help="subject-independent K-fold cross-validation (CK+)")
    tr.add_argument("-o", "--set", action="append", default=[], metavar="KEY=VALUE",
                    help="any config value, e.g. -o train.label_smoothing=0.1 -o model.crop=40")  # fmt: skip
    tr.set_defaults(func=cmd_train)

    ev = commands.add_parser("evaluate", help="accuracy, macro-F1, per-class scores, confusion, calibration")
    ev.add_argument("--model", required=True, help="checkpoint folder or shipped name; a,b,c averages an ensemble")
    ev.add_argument("--data", required=True, type=Path, help="dataset file or folder")
    ev.add_argument("--split", nargs="+", help="splits to score (default: all the dataset has)")
    ev.add_argument("--tta", default="none", choices=TTA_MODES, help=TTA_HELP)
    ev.add_argument("--json", action="store_true", help="print the report as one JSON object")
    ev.add_argument("--out", type=Path, help="write MODEL_CARD.md, model_card.json and plots here")
    ev.add_argument("--device", default="auto", help="auto, cpu or cuda")
    _add_dataset_options(ev)
    ev.set_defaults(func=cmd_evaluate)

    en = commands.add_parser("ensemble", help="combine checkpoints into one model, calibrated on validation data")
    en.add_argument("members", nargs="+", help="checkpoint folders or shipped model names (two or more)")
    en.add_argument("--out", required=True, type=Path, help="the ensemble's checkpoint folder")
    en.add_argument("--data", required=True, type=Path, help="dataset whose validation split fits the temperature")
    en.add_argument("--split", help="validation split (default: the dataset's, e.g. PublicTest)")
    _add_dataset_options(en)
    en.set_defaults(func=cmd_ensemble)

    ex = commands.add_parser("export", help="write a checkpoint as ONNX (checked against PyTorch) or safetensors")
    ex.add_argument("model", help="checkpoint folder or shipped model name")
    ex.add_argument("--format", default="onnx", choices=("onnx", "safetensors"),
                    help="onnx: one graph (an ensemble's members averaged inside it); safetensors: a self-contained "
                         "checkpoint folder (an ensemble's members copied in)")  # fmt: skip
    size = ex.add_mutually_exclusive_group()
    size.add_argument("--half", action="store_true", help="safetensors: store the weights as float16 (half the size)")
    size.add_argument("--int8", action="store_true",
                      help="safetensors: store conv and linear kernels as int8 with per-channel scales, the rest "
                           "float16 (about a quarter of the size)")  # fmt: skip
    ex.add_argument("--out", type=Path, help="output file or folder (default: MODEL_NAME.onnx or MODEL_NAME-export/)")
    ex.add_argument("--opset", type=int, default=17)
    ex.set_defaults(func=cmd_export)

    sv = commands.add_parser("serve", help="HTTP API and web page: upload an image or use the webcam")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sv.add_argument(
        "--model", default="default", help="shipped model name (default, fast, best, ferplus) or checkpoint folder"
    )
    sv.add_argument("--detector", default="mtcnn", choices=("mtcnn", "haar"))
    sv.add_argument("--min-face", type=int, default=20, help="smallest face side in pixels (default 20)")
    sv.add_argument("--min-score", type=float, help="drop detections scoring less (default: 0.95 for MTCNN)")
    sv.add_argument("--tta", default="none", choices=TTA_MODES, help=TTA_HELP)
    sv.add_argument("--workers", type=int, help="inference threads (default: one per CPU core)")
    sv.add_argument("--runtime", default="auto", choices=("auto", "onnx", "torch"), help=RUNTIME_HELP)
    sv.add_argument("--max-upload-mb", type=float, default=10, help="largest image upload (default 10 MB)")
    sv.add_argument("--max-pixels", type=int, default=40_000_000, help="largest image, width x height (default 40M)")
    sv.add_argument("--max-video-mb", type=float, default=50, help="largest video upload (default 50 MB)")
    sv.add_argument("--max-video-seconds", type=float, default=60, help="longest video (default 60 s)")
    sv.add_argument("--cors", nargs="*", default=[], metavar="ORIGIN",
                    help="allow these browser origins (e.g. https://example.org); default none")  # fmt: skip
    sv.set_defaults(func=cmd_serve)

    xp = commands.add_parser("explain", help="Grad-CAM, feature maps, kernels and classic filters for an image")
    xp.add_argument("image", type=Path, help="a photo with one or more faces")
    xp.add_argument(
        "--model", default="default", help="shipped model name (default, fast, best, ferplus) or checkpoint folder"
    )
    xp.add_argument("--detector", default="mtcnn", choices=("mtcnn", "haar"))
    xp.add_argument("--min-score", type=float, help="drop detections scoring less (default: 0.95 for MTCNN)")
    xp.add_argument("--layer", help="feature map for Grad-CAM (default: the last before the head); see --list-layers")
    xp.add_argument("--class", dest="class_name", help="explain this class instead of each face's prediction")
    xp.add_argument("--list-layers", action="store_true", help="print the layer names --layer accepts and stop")
    xp.add_argument("--out", type=Path, default=Path("explain"), help="output folder (default ./explain)")
    xp.set_defaults(func=cmd_explain)

    shapes = commands.add_parser(
        "shapes", help="a model's layers: output shape, parameters, receptive field, mult-adds"
    )
    shapes.add_argument("model", help="a registered model, a checkpoint, or a NumPy LeNet (scratch-lenet5, ...)")
    shapes.add_argument("--input", default="1x28x28", type=_input_shape, help="input CxHxW (default 1x28x28)")
    shapes.add_argument("--classes", type=int, help="output classes (default 7; 10 for the NumPy LeNets)")
    shapes.set_defaults(func=cmd_shapes)
    parser.epilog = (
        "every command:\n" + "\n".join(_command_lines(parser)) + "\n\nRun 'ferkit COMMAND --help' for its options."
    )
    return parser


def _command_lines(parser: argparse.ArgumentParser, prefix: str = "ferkit") -> list[str]:
    """'  ferkit data info   help text' for every leaf command below `parser`, so --help lists them all."""
    lines = []
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        helps = {a.dest: a.help for a in action._choices_actions}
        for name, sub in action.choices.items():
            below = _command_lines(sub, f"{prefix} {name}")
            lines.extend(below or [f"  {prefix} {name}".ljust(24) + (helps.get(name) or "")])
    return lines


def _input_shape(text: str) -> tuple[int, int, int]:
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"--input wants CxHxW such as 1x48x48, not {text!r}")
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


def _load(args: argparse.Namespace, path: Path, allow_empty: bool = False):
    from ferkit.data import load_dataset

    return load_dataset(
        path, args.format, strict=args.strict, cache=not args.no_cache, fer2013=args.fer2013, allow_empty=allow_empty
    )


def cmd_data_info(args: argparse.Namespace) -> int:
    from ferkit.data.info import dataset_report, format_report

    report = dataset_report(_load(args, args.path, allow_empty=True))
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def cmd_data_convert(args: argparse.Namespace) -> int:
    from ferkit.data.convert import convert_dataset

    dataset = _load(args, args.src)
    written = convert_dataset(dataset, args.dst, args.to, args.image_format)
    print(f"wrote {len(dataset)} images from {dataset.root} to {args.dst} as {written}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from ferkit.explain import explain, layer_names
    from ferkit.infer import Analyzer

    analyzer = Analyzer(args.model, args.detector, min_score=args.min_score)
    names = layer_names(analyzer.model)
    if args.list_layers:
        print("\n".join(names))
        return 0
    if args.layer is not None and args.layer not in names:
        raise FerkitError(f"--layer {args.layer!r} is not a layer of {args.model}; choose one of {', '.join(names)}")
    classes = list(analyzer.model.classes)
    if args.class_name is not None and args.class_name not in classes:
        raise FerkitError(f"--class {args.class_name!r} is not one of {args.model}'s classes: {', '.join(classes)}")
    if not args.image.is_file():
        raise FerkitError(f"{args.image}: no such file")
    result = explain(args.image, args.out, layer=args.layer, class_name=args.class_name, analyzer=analyzer)
    for i, (face, target) in enumerate(zip(result.faces, result.targets)):
        print(f"face {i}: {face.label} {face.probs[face.label]:.0%}; Grad-CAM explains {target}")
    print(f"{len(result.faces)} face(s); {len(result.files)} files in {args.out}; open {args.out / 'index.html'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import torch
    import uvicorn

    from ferkit.infer import Analyzer
    from ferkit.serve import ServeSettings, create_app
    from ferkit.serve.pool import split_threads

    workers = args.workers or os.cpu_count() or 1
    if workers < 1 or args.port < 0:
        raise FerkitError(f"--workers must be 1 or more and --port 0 or more (got {workers}, {args.port})")
    torch.set_num_threads(split_threads(workers))  # the workers share the cores instead of each taking all
    analyzer = Analyzer(args.model, args.detector, min_face=args.min_face, tta=args.tta,
                        threads=split_threads(workers), min_score=args.min_score, runtime=args.runtime)  # fmt: skip
    mb = 1 << 20
    settings = ServeSettings(
        max_upload_bytes=int(args.max_upload_mb * mb), max_pixels=args.max_pixels,
        max_video_bytes=int(args.max_video_mb * mb), max_video_seconds=args.max_video_seconds,
        workers=workers, cors_origins=args.cors,
    )  # fmt: skip
    app = create_app(analyzer, settings)
    print(f"ferkit serve: model {args.model}, detector {args.detector}, {workers} workers; "
          f"open http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr, flush=True)  # fmt: skip
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from ferkit.infer.images import expand_sources
    from ferkit.infer.job import Outputs, PredictSettings, run_job

    if args.batch < 1 or args.workers < 1:
        raise FerkitError(f"--batch and --workers must be 1 or more, not {args.batch} and {args.workers}")
    settings = PredictSettings(model=args.model, detector=args.detector, min_face=args.min_face,
                               min_score=args.min_score, tta=args.tta, batch=args.batch, stride=args.stride,
                               detect_every=args.detect_every, smooth=args.smooth, runtime=args.runtime)  # fmt: skip
    outputs = Outputs(json=args.json, csv=args.csv, save=args.save, timeline=args.timeline)
    summary = run_job(expand_sources(args.sources), settings, outputs, workers=args.workers, ray_address=args.ray,
                      fresh=args.fresh)  # fmt: skip
    for message in summary.failures:
        print(f"ferkit: error: {message}", file=sys.stderr)
    if summary.skipped:
        print(f"ferkit: {summary.skipped} of {summary.sources} sources were done by an earlier run of this job",
              file=sys.stderr)  # fmt: skip
    return 1 if summary.failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from ferkit.infer.report import write_report

    out = args.out or args.records.with_name(f"{args.records.stem}_report")
    page = write_report(args.records, out, args.thumbnails)
    print(f"wrote {page}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ferkit.config import load_config
    from ferkit.engine.trainer import train

    fields = {
        "model.name": args.model, "data.path": args.data, "out": args.out, "train.epochs": args.epochs,
        "train.batch_size": args.batch_size, "train.lr": args.lr, "train.optimizer": args.optimizer,
        "train.schedule": args.schedule, "train.device": args.device, "train.seed": args.seed,
        "model.init": args.init, "model.freeze_epochs": args.freeze_epochs, "train.time_limit": args.time_limit,
        "train.teacher": args.teacher, "train.precision": args.precision,
    }  # fmt: skip
    cfg = load_config(args.config, args.set, **fields)
    if args.kfold:
        from ferkit.engine.kfold import cross_validate

        summary = cross_validate(cfg, args.kfold, seed=cfg.train.seed)
        print(f"{args.kfold}-fold subject-independent accuracy: {summary['mean_accuracy']:.4f} ± "
              f"{summary['std_accuracy']:.4f} ({cfg.out}/kfold.json)")  # fmt: skip
        return 0
    result = train(cfg, resume=args.resume)
    print(f"best validation accuracy {result.best_accuracy:.4f} (epoch {result.best_epoch}), "
          f"{result.epochs_run} epochs in {result.seconds:.0f} s: {result.best}")  # fmt: skip
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ferkit.models.export import export_checkpoint, export_onnx

    name = Path(args.model).resolve().name
    dtype = "int8" if args.int8 else "float16" if args.half else "float32"
    if args.format == "safetensors":
        path = export_checkpoint(args.model, args.out or Path(f"{name}-export"), dtype)
        size = sum(p.stat().st_size for p in path.rglob("*.safetensors"))
        print(f"wrote {path}: {size / 2**20:.1f} MiB of {dtype} weights")
        return 0
    if dtype != "float32":
        raise FerkitError(f"--{'int8' if args.int8 else 'half'} applies to --format safetensors "
                          "(an ONNX graph computes in float32)")  # fmt: skip
    path, diff = export_onnx(args.model, args.out or Path(f"{name}.onnx"), args.opset)
    print(f"wrote {path}: onnxruntime logits within {diff:.1e} of PyTorch")
    return 0


def cmd_ensemble(args: argparse.Namespace) -> int:
    from ferkit.engine.ensemble import make_ensemble

    meta = make_ensemble(args.members, args.out, _load(args, args.data), args.split)
    cal, metrics = meta["calibration"], meta["metrics"]
    print(f"wrote {args.out}: {len(args.members)} members, {metrics['val_split']} accuracy "
          f"{metrics['val_accuracy']:.2%}, temperature {cal['temperature']:.3f} "
          f"(ECE {cal['ece_before']:.4f} -> {cal['ece_after']:.4f})")  # fmt: skip
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ferkit.engine.card import checkpoint_metas, write_model_card
    from ferkit.engine.evaluate import evaluate, load_models, write_plots
    from ferkit.engine.trainer import resolve_device

    models = load_models(args.model, resolve_device(args.device))
    dataset = _load(args, args.data)
    report = evaluate(models, dataset, args.split, args.tta, args.model)
    if args.out:
        plots = write_plots(report, args.out)
        card = write_model_card(report, [meta for m in models for meta in checkpoint_metas(m)], plots, args.out)
        print(f"model card: {card}", file=sys.stderr)
    if args.json:
        slim = {**report, "splits": {k: {f: v for f, v in r.items() if f != "reliability"}
                                     for k, r in report["splits"].items()}}  # fmt: skip
        print(json.dumps(slim, indent=2))
        return 0
    print(f"{args.model} on {dataset.root} (tta {args.tta})")
    print(f"{'split':<14}{'n':>7}{'accuracy':>10}{'macro-F1':>10}{'ECE':>8}")
    for split, r in report["splits"].items():
        print(f"{split:<14}{r['n']:>7}{r['accuracy']:>10.2%}{r['macro_f1']:>10.2%}{r['ece']:>8.4f}")
    return 0


def _shapes_model(name: str, channels: int, size: int, classes: int | None):
    """The model `ferkit shapes` describes: a registered architecture, a checkpoint, or a NumPy LeNet."""
    from ferkit.models import create_model, list_models, load_model
    from ferkit.models.registry import accepts
    from ferkit.scratch import MODELS

    if name in list_models():
        kwargs = {"input_size": size} if accepts(name, "input_size") else {}
        return create_model(name, num_classes=classes or 7, in_chans=channels, **kwargs), False
    scratch = name.removeprefix("scratch-")
    if scratch in MODELS:
        return MODELS[scratch](num_classes=classes or 10, in_chans=channels, input_size=size), True
    from pathlib import Path as _Path

    if (_Path(name) / "model.json").is_file():
        return load_model(name), False
    raise FerkitError(f"unknown model {name!r}; registered: {', '.join(list_models())}; NumPy: "
                      f"{', '.join('scratch-' + m for m in MODELS)}; or a checkpoint folder")  # fmt: skip


def cmd_shapes(args: argparse.Namespace) -> int:
    from ferkit.models.summary import summarize_torch
    from ferkit.scratch import format_summary, summarize

    channels, height, width = args.input
    if height != width:
        raise FerkitError(f"{args.model} takes square inputs; --input {channels}x{height}x{width} is not square")
    try:
        model, is_scratch = _shapes_model(args.model, channels, height, args.classes)
        rows = summarize(model, args.input) if is_scratch else summarize_torch(model, args.input)
    except (ValueError, RuntimeError) as exc:  # e.g. an input too small for two 5x5 convolutions and two poolings
        raise FerkitError(f"{args.model} cannot take a {channels}x{height}x{width} input ({exc})") from None
    classes = rows[-1].output_shape[-1]
    print(f"{args.model}, input {channels}x{height}x{width}, {classes} classes")
    print(format_summary(rows, args.input))
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(format="ferkit: warning: %(message)s", level=logging.WARNING, stream=sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        return _help(parser)
    try:
        return args.func(args)
    except FerkitError as exc:
        print(f"ferkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ferkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `ferkit ... | head`: the reader left; not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
