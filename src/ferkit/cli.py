"""The `ferkit` command: parse, validate, call the Python API of the same name, print."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ferkit import __version__
from ferkit.errors import FerkitError

EXIT_USAGE = 2  # bad input: a missing path, an unreadable dataset, strict-mode bad data


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

    shapes = commands.add_parser(
        "shapes", help="a model's layers: output shape, parameters, receptive field, mult-adds"
    )
    shapes.add_argument("model", help="model name (lenet5, lenet5-modern)")
    shapes.add_argument("--input", default="1x28x28", type=_input_shape, help="input CxHxW (default 1x28x28)")
    shapes.add_argument("--classes", type=int, default=10, help="number of output classes (default 10)")
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


def cmd_shapes(args: argparse.Namespace) -> int:
    from ferkit.scratch import MODELS, format_summary, summarize

    if args.model not in MODELS:
        raise FerkitError(f"unknown model {args.model!r}; choose one of {', '.join(MODELS)}")
    channels, height, width = args.input
    if height != width:
        raise FerkitError(f"{args.model} takes square inputs; --input {channels}x{height}x{width} is not square")
    try:
        model = MODELS[args.model](num_classes=args.classes, in_chans=channels, input_size=height)
        rows = summarize(model, args.input)
    except ValueError as exc:  # e.g. an input too small for two 5x5 convolutions and two poolings
        raise FerkitError(f"{args.model} cannot take a {channels}x{height}x{width} input ({exc})") from None
    print(f"{args.model}, input {channels}x{height}x{width}, {args.classes} classes")
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
