"""``tailscope workspace``: the workspaces the app keeps, from the command line."""
from __future__ import annotations

import json

from ..errors import InputError

NAME = "workspace"
HELP = "list workspaces, show what one holds, evaluate a run kept in one"
DESCRIPTION = """Workspaces keep what was loaded and made in the app (see docs/workspace.md).

  list                          the workspaces under --root (default ~/.tailscope/workspaces)
  show --workspace DIR          its datasets: each part's file, rows and notes; runs; artifacts
  eval --workspace DIR --run R  eval-cls on a run kept in the workspace (its labels and train
                                counts); the same text and the same JSON (--out) as eval-cls

--json prints JSON instead of text (list, show).

example:
  tailscope workspace eval --workspace ~/.tailscope/workspaces/places-lt --run resnet --bootstrap 1000 --out r.json"""


def add_arguments(p) -> None:
    p.add_argument("action", choices=["list", "show", "eval"], help="what to do")
    p.add_argument("--workspace", metavar="DIR", help="the workspace folder (show, eval)")
    p.add_argument("--root", metavar="DIR", help="list: the folder holding workspaces (default ~/.tailscope/workspaces)")
    p.add_argument("--run", metavar="NAME", help="eval: the run to evaluate")
    p.add_argument("--split", default="test", choices=["val", "test"], help="eval: the split (default test)")
    p.add_argument("--bins", default=None, metavar="SCHEME",
                   help="eval: bin scheme (default: the workspace's own, else imagenet-lt)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N", help="eval: bootstrap resamples (0 = none)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="eval: seed of the bootstrap")
    p.add_argument("--out", metavar="REPORT_JSON", help="eval: write the report as JSON (atomically)")
    p.add_argument("--json", action="store_true", help="list / show: print JSON")


def _need(args, what: str):
    v = getattr(args, what)
    if not v:
        raise InputError(f"'{args.action}' needs --{what}", "command line", f"--{what}")
    return v


def summary(ws) -> dict:
    """What a workspace holds, as plain JSON-able data."""
    out = {"name": ws.name, "path": str(ws.path), "bins": ws.bins, "datasets": [], "artifacts": [],
           "notes": list(ws.notes)}
    if ws.classification is not None:
        ds = ws.classification
        parts = []
        for part, where, ref in (ds.parts.files() if ds.parts is not None else []):
            parts.append({"part": part, "where": where, "file": ref.name, "size": ref.size})
        out["datasets"].append({
            "kind": "classification", "name": ds.name, "classes": ds.classes.n_classes,
            "samples": {s: len(v) for s, v in ds.labels.items()}, "parts": parts,
            "notes": {s: list(v.notes) for s, v in ds.labels.items() if v.notes},
            "runs": {n: {"splits": r.splits, "source": r.source} for n, r in ds.runs.items()}})
    if ws.detection is not None:
        d = ws.detection
        out["datasets"].append({"kind": "detection", "name": d.name, "images": d.gt.n_images,
                                "categories": d.classes.n_classes,
                                "results": {n: len(r) for n, r in d.results.items()}})
    for a in ws.artifacts.values():
        out["artifacts"].append({"id": a.id, "kind": a.kind, "run": a.run, "files": a.files})
    return out


def run(args) -> int:
    import lt_core.workspace as W

    from ..io import to_jsonable

    if args.action == "list":
        infos = W.list_workspaces(args.root)
        if args.json:
            print(json.dumps([{"name": w.name, "path": str(w.path), "saved": w.saved, "summary": w.summary}
                              for w in infos]))
        else:
            for w in infos:
                print(f"{w.name:<28} {w.saved:<26} {w.summary}  ({w.path})")
            if not infos:
                print(f"no workspaces under {args.root or W.default_root()}")
        return 0
    ws = W.open(_need(args, "workspace"))
    if args.action == "show":
        s = summary(ws)
        if args.json:
            print(json.dumps(to_jsonable(s)))
            return 0
        print(f"workspace {s['name']} ({s['path']}); bins {ws.bins.get('spec', '-')}")
        for d in s["datasets"]:
            if d["kind"] == "classification":
                print(f"  classification '{d['name']}': {d['classes']:,} classes, "
                      + ", ".join(f"{k} {v:,}" for k, v in d["samples"].items()))
                for p in d["parts"]:
                    print(f"    {p['part']:<13} {p['where'] or '':<18} {p['file']}")
                for n, r in d["runs"].items():
                    print(f"    run {n!r}: {', '.join(r['splits'])} ({r['source']})")
            else:
                print(f"  detection '{d['name']}': {d['images']:,} images, {d['categories']:,} categories, results "
                      + ", ".join(f"{k} ({v:,})" for k, v in d["results"].items()))
        for a in s["artifacts"]:
            print(f"  artifact {a['id']} ({a['kind']}) for run {a['run']!r}: {', '.join(a['files'])}")
        return 0
    # eval
    from ..bins import parse_bins
    from ..io import write_json
    from ..metrics import classification_report
    from .eval_cls import format_report

    ds = ws.classification
    if ds is None:
        raise InputError("the workspace holds no classification dataset", str(ws.path))
    name = _need(args, "run")
    if name not in ds.runs:
        raise InputError(f"no run '{name}' (runs: {', '.join(ds.runs) or 'none'})", str(ws.path), "--run")
    if args.split not in ds.labels or args.split not in ds.runs[name].preds:
        raise InputError(f"run '{name}' has no {args.split} predictions with labels", str(ws.path), "--split")
    if args.bootstrap < 0:
        raise InputError(f"--bootstrap must be >= 0, got {args.bootstrap}", field="--bootstrap")
    scheme = parse_bins(args.bins or ws.bins.get("spec") or "imagenet-lt")
    p = ds.runs[name].preds[args.split]
    rep = classification_report(ds.labels[args.split].y, p.labels, ds.classes, scheme, scores=p.scores,
                                kind=p.kind if p.scores is not None else "auto", bootstrap=args.bootstrap,
                                seed=args.seed)
    print(f"workspace {ws.name}, run {name}, split {args.split}")
    print(format_report(rep, ds.classes.n_classes, p.kind, scheme.spec))
    if args.out:
        write_json(args.out, rep.to_dict())
        print(f"\nwrote {args.out}")
    return 0


def io_paths(args):
    from ..io import IOPaths

    return IOPaths(inputs={"--workspace": args.workspace, "--root": args.root}, outputs={"--out": args.out})
