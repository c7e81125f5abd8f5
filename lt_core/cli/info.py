"""``python -m lt_core info PATH...``: load files and print what they are."""
from __future__ import annotations

import json
import sys

from ..data.inspect import describe_file, format_summary
from ..errors import InputError
from ..io import to_jsonable

NAME = "info"
HELP = "load files and print a summary (kind, classes, samples, imbalance ratio, bins)"
DESCRIPTION = """Load each PATH with the loader its content calls for and print a summary.

Label lists / tables, per-class count CSVs, GoEmotions TSVs, image-folder trees, COCO / LVIS
ground truth, COCO results (checked against a ground-truth file given in the same call),
numpy score / feature arrays, classifier weights. Exit code 2 if any file is bad."""


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to inspect")
    p.add_argument("--json", action="store_true", help="print one JSON object per file instead of text")


def run(args) -> int:
    from ..data.loaders import _gt_from_dict, read_json

    # results are checked against the ground truth given before them in the call (else the first one)
    gts: dict[int, object] = {}
    for i, path in enumerate(args.paths):
        try:
            d = read_json(path) if str(path).endswith((".json", ".json.gz")) else None
            if isinstance(d, dict) and "images" in d:
                gts[i] = _gt_from_dict(d, str(path))
        except InputError:
            pass
    rc = 0
    for i, path in enumerate(args.paths):
        before = [k for k in gts if k < i]
        gt = gts[before[-1]] if before else (gts[min(gts)] if gts else None)
        try:
            d = describe_file(path, gt=gt, loaded_gt=gts.get(i))
        except InputError as e:
            print(f"error: {e}", file=sys.stderr)
            rc = 2
            continue
        print(json.dumps(to_jsonable(d)) if args.json else format_summary(d))
    return rc


def io_paths(args):
    from ..io import IOPaths

    return IOPaths(inputs={"PATH": list(args.paths)})
