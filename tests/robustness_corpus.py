"""The bad-input corpus of issue 10: one row per deliberately bad input, replayed by
``tests/test_robustness_corpus.py`` through ``lt_core.cli.main``.

Each :class:`Case` gives the files to create (small, generated here from a valid base set), the
command line (``{d}`` is the case's folder), and what the one-line message must name (the file and
the field). The replay checks, for every case: exit code 2, exactly one line on stderr starting
with ``error:``, no traceback, the expected names in it, every input file unchanged (hash and
mtime), no output and no temporary file left behind.

Categories (the issue's lists): ``tracebacks`` (used to crash), ``overwrites`` (outputs that would
replace an input or each other), ``coercions`` (values that used to be silently converted),
``degenerate`` (inputs that cannot give a meaningful result), ``numbers`` (numeric options out of
range), ``messages`` (the wording itself was wrong), ``exports`` (bad output formats / targets).
``owner="detection"``: cases whose fix lives in the detection reader (another branch); they are
expected to fail here until that lands (xfail, not strict).
"""
from __future__ import annotations

import gzip
import io
import json
import pickle
import zipfile
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

# ----------------------------------------------------------------------------------------------
# a valid base set (6 classes, long-tailed) and byte builders
# ----------------------------------------------------------------------------------------------
COUNTS = [100, 50, 20, 10, 5, 2]
C, D = 6, 8
_rng = np.random.default_rng(0)


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def csv(header: str, rows) -> bytes:
    return (header + "\n" + "".join(f"{r}\n" for r in rows)).encode()


def js(obj) -> bytes:
    return json.dumps(obj).encode()


Y_TRAIN = np.repeat(np.arange(C), COUNTS)
Y_TEST = np.repeat(np.arange(C), 6)
COUNTS_CSV = csv("class_id,count,name", [f"{i},{n},c{i}" for i, n in enumerate(COUNTS)])
TRAIN_CSV = csv("id,label", [f"tr{i},{y}" for i, y in enumerate(Y_TRAIN)])
TEST_CSV = csv("id,label", [f"t{i},{y}" for i, y in enumerate(Y_TEST)])
VAL_CSV = csv("id,label", [f"v{i},{y}" for i, y in enumerate(Y_TEST)])
SCORES = _rng.normal(size=(len(Y_TEST), C)).astype(np.float32)
SCORES_NPY = npy(SCORES)
FEATS_TRAIN = (_rng.normal(size=(len(Y_TRAIN), D)) + Y_TRAIN[:, None]).astype(np.float32)
FEATS_TEST = (_rng.normal(size=(len(Y_TEST), D)) + Y_TEST[:, None]).astype(np.float32)
FEATS_TRAIN_NPY = npy(FEATS_TRAIN)
FEATS_TEST_NPY = npy(FEATS_TEST)
CLF_NPZ = npz(W=_rng.normal(size=(C, D)).astype(np.float32), b=np.zeros(C, np.float32))


def gt(images=None, annotations=None, categories=None, **top) -> dict:
    """A small valid COCO ground truth (3 images, 2 categories, 4 boxes), parts replaceable."""
    d = {"images": images if images is not None else
         [{"id": 1, "height": 100, "width": 100}, {"id": 2, "height": 100, "width": 100},
          {"id": 3, "height": 100, "width": 100}],
         "annotations": annotations if annotations is not None else
         [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0},
          {"id": 2, "image_id": 2, "category_id": 1, "bbox": [5, 5, 30, 30], "area": 900, "iscrowd": 0},
          {"id": 3, "image_id": 2, "category_id": 2, "bbox": [50, 50, 10, 10], "area": 100, "iscrowd": 0},
          {"id": 4, "image_id": 3, "category_id": 2, "bbox": [0, 0, 40, 40], "area": 1600, "iscrowd": 0}],
         "categories": categories if categories is not None else
         [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}
    d.update(top)
    return d


def lvis(**over) -> dict:
    d = gt(categories=[{"id": 1, "name": "cat", "frequency": "f", "image_count": 2, "instance_count": 2},
                       {"id": 2, "name": "dog", "frequency": "r", "image_count": 2, "instance_count": 2}])
    for im in d["images"]:
        im["neg_category_ids"], im["not_exhaustive_category_ids"] = [], []
    for k, v in over.items():
        d[k] = v
    return d


def img(i, **kw):
    return {"id": i, "height": 100, "width": 100, **kw}


DT = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9},
      {"image_id": 2, "category_id": 2, "bbox": [50, 50, 10, 10], "score": 0.8},
      {"image_id": 3, "category_id": 2, "bbox": [0, 0, 35, 40], "score": 0.7}]


def dt(**change) -> list:
    """The valid results with entry 0 changed."""
    out = [dict(x) for x in DT]
    out[0].update(change)
    return out


def npy_header_lie(shape, dtype="<f4", data=b"\x00" * 64) -> bytes:
    """A .npy whose header claims ``shape`` but holds only ``data``."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)}).encode()
    pad = 64 - (10 + len(header) + 1) % 64
    header += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data


def zip_bytes(members: dict[str, bytes], compress=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


def zip_bomb() -> bytes:
    """An .npz member whose header is consistent but unpacks to 256 MiB of zeros (about 250 KB packed)."""
    n = 256 * 1024**2 // 4
    header = npy_header_lie((n,), data=b"")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("scores.npy", "w", force_zip64=True) as fh:
            fh.write(header)
            chunk = b"\x00" * (1 << 24)
            for _ in range(n * 4 // len(chunk)):
                fh.write(chunk)
    return buf.getvalue()


def torch_bytes(obj) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


class _Evil:  # pickled into a .pt: weights-only loading must refuse it
    def __reduce__(self):
        return (print, ("this must never run",))


def parquet(**cols) -> bytes:
    import pandas as pd

    buf = io.BytesIO()
    pd.DataFrame(cols).to_parquet(buf)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# the corpus
# ----------------------------------------------------------------------------------------------
@dataclass
class Case:
    id: str
    category: str
    argv: list[str]
    files: dict[str, bytes | Callable[[], bytes]]
    expect: list[str]
    owner: str = "robustness"
    env: dict[str, str] = field(default_factory=dict)
    setup: str | None = None        # name of a setup action in the replay (links, read-only folders)


CASES: list[Case] = []


def add(id, category, argv, files, expect, **kw):
    assert id not in {c.id for c in CASES}, id
    CASES.append(Case(id, category, argv.split() if isinstance(argv, str) else argv, files, expect, **kw))


E = "eval-cls --labels {d}/test.csv --preds {d}/scores.npy --train-counts {d}/counts.csv"
BASE = {"test.csv": TEST_CSV, "scores.npy": SCORES_NPY, "counts.csv": COUNTS_CSV}
RT = ("retrain --train-features {d}/ftr.npy --train-labels {d}/train.csv --test-features {d}/fte.npy "
      "--test-labels {d}/test.csv --method crt --epochs 1 --quiet --out {d}/head")
RTF = {"ftr.npy": FEATS_TRAIN_NPY, "train.csv": TRAIN_CSV, "fte.npy": FEATS_TEST_NPY, "test.csv": TEST_CSV}
AD = "adjust --preds {d}/scores.npy --train-counts {d}/counts.csv"
W = "rebalance weights --train-counts {d}/counts.csv"
S = "rebalance sample --train-labels {d}/train.csv"
SM = "rebalance smote --features {d}/ftr.npy --train-labels {d}/train.csv"
ED = "eval-det --gt {d}/gt.json --dt {d}/dt.json"
RF = "rebalance rfs --gt {d}/gt.json"
GT = {"gt.json": js(gt()), "dt.json": js(DT)}


def with_(base, **files):
    out = dict(base)
    out.update({k.replace("__", "."): v for k, v in files.items()})
    return out


# ---- tracebacks: inputs that used to crash -------------------------------------------------------
add("class id 1e11 in train labels", "tracebacks",
    "eval-cls --labels {d}/test.csv --preds {d}/scores.npy --train-labels {d}/big.csv",
    with_(BASE, big__csv=csv("label", ["0", "1", "100000000000"])), ["big.csv", "label", "100,000,000,000"])
add("class id beyond int64 in train labels", "tracebacks",
    "eval-cls --labels {d}/test.csv --preds {d}/scores.npy --train-labels {d}/big.csv",
    with_(BASE, big__csv=csv("label", ["0", "1", "99999999999999999999"])), ["big.csv", "label", "64-bit"])
add("class id beyond int64 in counts", "tracebacks", E.replace("counts.csv", "cbig.csv"),
    with_(BASE, cbig__csv=csv("class_id,count", ["0,5", "99999999999999999999,3"])), ["cbig.csv", "class_id", "64-bit"])
add("count beyond int64", "tracebacks", E.replace("counts.csv", "cbig.csv"),
    with_(BASE, cbig__csv=csv("class_id,count", ["0,5", "1,99999999999999999999"])), ["cbig.csv", "count", "64-bit"])
add("npy header claims 1e12 rows (scores)", "tracebacks", E.replace("scores.npy", "lie.npy"),
    with_(BASE, lie__npy=npy_header_lie((10**12, 6))), ["lie.npy", "array", "header says shape"])
add("npy header claims huge shape (features)", "tracebacks", RT.replace("ftr.npy", "lie.npy"),
    with_(RTF, lie__npy=npy_header_lie((10**9, 10**4))), ["lie.npy", "header says shape"])
add("npy truncated data", "tracebacks", E, with_(BASE, scores__npy=SCORES_NPY[:-40]),
    ["scores.npy", "truncated"])
add("npy extra bytes after the array", "tracebacks", E, with_(BASE, scores__npy=SCORES_NPY + b"\x00" * 24),
    ["scores.npy", "extra bytes"])
add("npy header garbage", "tracebacks", E,
    with_(BASE, scores__npy=b"\x93NUMPY\x01\x00\x10\x00{'descr': !!!}  \n" + b"\x00" * 32), ["scores.npy", "header"])
add("npy header with a negative dimension", "tracebacks", E, with_(BASE, scores__npy=npy_header_lie((-5, 6))),
    ["scores.npy", "array"])
add("npy object array (scores)", "tracebacks", E,
    with_(BASE, scores__npy=npy(np.array([{"a": 1}] * 36, dtype=object))), ["scores.npy", "Python objects"])
add("npy structured array", "tracebacks", E,
    with_(BASE, scores__npy=npy(np.zeros(36, dtype=[("a", "f4"), ("b", "i4")]))), ["scores.npy", "structured"])
add("pickle named .npy", "tracebacks", E, with_(BASE, scores__npy=pickle.dumps(SCORES)), ["scores.npy", "pickle"])
add("pickle named .npz (scores)", "tracebacks", E.replace("scores.npy", "s.npz"),
    with_(BASE, s__npz=pickle.dumps({"scores": SCORES})), ["s.npz", "pickle"])
add("pickle named .npz (classifier)", "tracebacks", RT.replace("--method crt", "--method lws --classifier {d}/clf.npz"),
    with_(RTF, clf__npz=pickle.dumps({"W": np.zeros((6, 8))})), ["clf.npz", "pickle"])
add("npz holding an object array (classifier)", "tracebacks",
    RT.replace("--method crt", "--method lws --classifier {d}/clf.npz"),
    with_(RTF, clf__npz=npz(W=np.array([None] * 6, dtype=object), b=np.zeros(6))), ["clf.npz", "Python objects"])
add("npz holding an object array (scores)", "tracebacks", E.replace("scores.npy", "s.npz"),
    with_(BASE, s__npz=npz(scores=np.array([[object()]] * 2, dtype=object))), ["s.npz", "scores", "Python objects"])
add("npz member header lies", "tracebacks", E.replace("scores.npy", "s.npz"),
    with_(BASE, s__npz=zip_bytes({"scores.npy": npy_header_lie((10**10, 6))})), ["s.npz", "scores", "header says"])
add("npz zip bomb (256 MiB of zeros in 250 KB)", "tracebacks", E.replace("scores.npy", "s.npz"),
    with_(BASE, s__npz=zip_bomb), ["s.npz", "scores", "unpacks to 256.0 MiB, above the 64.0 MiB input limit"],
    env={"TAILSCOPE_MAX_FILE_BYTES": "64MiB"})
add("a torch zip named .npz", "tracebacks", E.replace("scores.npy", "s.npz"),
    with_(BASE, s__npz=lambda: torch_bytes({"weight": __import__("torch").zeros(2, 2)})), ["s.npz", "not a .npy array"])
add("a zip of text named .npz", "tracebacks", E.replace("scores.npy", "s.npz"),
    with_(BASE, s__npz=zip_bytes({"readme.txt": b"hello"})), ["s.npz", "readme.txt"])
add("npz truncated archive", "tracebacks", E.replace("scores.npy", "s.npz"),
    with_(BASE, s__npz=npz(scores=SCORES)[:200]), ["s.npz", "zip"])
add("npz with corrupt compressed data", "tracebacks", E.replace("scores.npy", "s.npz"),
    with_(BASE, s__npz=lambda: _corrupt_deflate()), ["s.npz", "damaged"])
add("npz with no arrays", "tracebacks", E.replace("scores.npy", "s.npz"), with_(BASE, s__npz=zip_bytes({})),
    ["s.npz"])
add("npz with ids of objects", "tracebacks", E.replace("scores.npy", "s.npz"),
    with_(BASE, s__npz=npz(scores=SCORES, ids=np.array([object()] * 36, dtype=object))), ["s.npz", "ids"])
add("classifier .pt with a pickled object", "tracebacks",
    RT.replace("--method crt", "--method lws --classifier {d}/clf.pt"),
    with_(RTF, clf__pt=lambda: torch_bytes({"weight": _Evil()})), ["clf.pt", "weights-only"])
add("classifier .pt not a torch file", "tracebacks", RT.replace("--method crt", "--method lws --classifier {d}/clf.pt"),
    with_(RTF, clf__pt=b"PK\x03\x04garbage" * 10), ["clf.pt", "not a readable torch file"])
add("classifier .pt holding a list", "tracebacks", RT.replace("--method crt", "--method lws --classifier {d}/clf.pt"),
    with_(RTF, clf__pt=lambda: torch_bytes([1, 2, 3])), ["clf.pt", "state_dict"])
add("classifier .pt complex weights", "tracebacks", RT.replace("--method crt", "--method lws --classifier {d}/clf.pt"),
    with_(RTF, clf__pt=lambda: torch_bytes({"weight": __import__("torch").zeros(6, 8, dtype=__import__("torch").complex64)})),
    ["clf.pt", "weight", "real numbers"])
add("classifier safetensors garbage", "tracebacks",
    RT.replace("--method crt", "--method lws --classifier {d}/clf.safetensors"),
    with_(RTF, clf__safetensors=b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      "), ["clf.safetensors", "safetensors"])
add("classifier npz without a weight", "tracebacks", RT.replace("--method crt", "--method lws --classifier {d}/clf.npz"),
    with_(RTF, clf__npz=npz(bias=np.zeros(6))), ["clf.npz", "weight"])
add("classifier npz with a string weight", "tracebacks",
    RT.replace("--method crt", "--method lws --classifier {d}/clf.npz"),
    with_(RTF, clf__npz=npz(W=np.array([["a"] * 8] * 6))), ["clf.npz", "W", "real numbers"])
add("classifier with NaN weight", "tracebacks", RT.replace("--method crt", "--method lws --classifier {d}/clf.npz"),
    with_(RTF, clf__npz=npz(W=np.full((6, 8), np.nan, np.float32))), ["clf.npz", "non-finite"])
add("classifier bias of the wrong length", "tracebacks",
    RT.replace("--method crt", "--method lws --classifier {d}/clf.npz"),
    with_(RTF, clf__npz=npz(W=np.zeros((6, 8), np.float32), b=np.zeros(5, np.float32))), ["clf.npz", "bias"])
add("classifier of the wrong shape", "tracebacks", RT.replace("--method crt", "--method lws --classifier {d}/clf.npz"),
    with_(RTF, clf__npz=npz(W=np.zeros((3, 8), np.float32))), ["clf.npz", "weight", "(6, 8)"])
add("retrain --out is an existing file", "tracebacks", RT.replace("{d}/head", "{d}/taken.txt"),
    with_(RTF, taken__txt=b"mine"), ["taken.txt", "--out", "folder is needed"])
add("features 3-D", "tracebacks", RT, with_(RTF, ftr__npy=npy(np.zeros((187, 2, 4), np.float32))),
    ["ftr.npy", "2-D"])
add("features 0-d", "tracebacks", RT, with_(RTF, ftr__npy=npy(np.float32(1))), ["ftr.npy", "2-D"])
add("features with inf", "tracebacks", RT,
    with_(RTF, ftr__npy=npy(np.where(np.arange(187 * 8).reshape(187, 8) == 9, np.inf, FEATS_TRAIN))),
    ["ftr.npy", "inf", "row 2"])
add("features beyond float32", "tracebacks", RT, with_(RTF, ftr__npy=npy(np.full((187, 8), 1e300))),
    ["ftr.npy", "float32 range"])
add("features of strings", "tracebacks", RT, with_(RTF, ftr__npy=npy(np.array([["x"] * 8] * 187))),
    ["ftr.npy", "numeric"])
add("features rows differ from labels", "tracebacks", RT, with_(RTF, ftr__npy=npy(FEATS_TRAIN[:100])),
    ["ftr.npy", "rows", "train.csv"])
add("test features of another width", "tracebacks", RT, with_(RTF, fte__npy=npy(FEATS_TEST[:, :5])),
    ["fte.npy", "columns", "5 feature dimensions"])
add("features parquet with a text column", "tracebacks", RT.replace("ftr.npy", "ftr.parquet"),
    with_(RTF, ftr__parquet=lambda: parquet(a=[1.0] * 187, b=["x"] * 187)), ["ftr.parquet", "'b'", "non-numeric"])
add("scores complex", "tracebacks", E, with_(BASE, scores__npy=npy(SCORES.astype(np.complex64))),
    ["scores.npy", "array", "complex64"])
add("scores 0-d", "tracebacks", E, with_(BASE, scores__npy=npy(np.float32(3))), ["scores.npy", "shape ()"])
add("scores 3-D", "tracebacks", E, with_(BASE, scores__npy=npy(SCORES[:, :, None])), ["scores.npy", "shape"])
add("scores empty", "tracebacks", E, with_(BASE, scores__npy=npy(np.zeros((0, 6), np.float32))),
    ["scores.npy", "0 rows"])
add("GT height of the wrong type", "tracebacks", ED,
    with_(GT, gt__json=js(gt(images=[img(1, height="tall"), img(2), img(3)]))), ["gt.json", "height"], owner="detection")
add("GT width a list", "tracebacks", ED,
    with_(GT, gt__json=js(gt(images=[img(1, width=[640]), img(2), img(3)]))), ["gt.json", "width"], owner="detection")
add("GT height null", "tracebacks", ED,
    with_(GT, gt__json=js(gt(images=[img(1, height=None), img(2), img(3)]))), ["gt.json", "height"], owner="detection")
add("GT image_count null", "tracebacks", RF + " --out {d}/f.json",
    with_(GT, gt__json=js(gt(categories=[{"id": 1, "name": "cat", "image_count": None},
                                         {"id": 2, "name": "dog", "image_count": 2}]))),
    ["gt.json", "image_count"], owner="detection")
add("GT image_count a string", "tracebacks", "info {d}/gt.json",
    with_(GT, gt__json=js(gt(categories=[{"id": 1, "name": "cat", "image_count": "many"},
                                         {"id": 2, "name": "dog", "image_count": 2}]))),
    ["gt.json", "image_count"], owner="detection")
add("LVIS neg_category_ids nested", "tracebacks", ED + " --style lvis",
    with_(GT, gt__json=js(lvis(images=[img(1, neg_category_ids=[[1, 2]], not_exhaustive_category_ids=[]),
                                       img(2, neg_category_ids=[], not_exhaustive_category_ids=[]),
                                       img(3, neg_category_ids=[], not_exhaustive_category_ids=[])]))),
    ["gt.json", "neg_category_ids"], owner="detection")
add("LVIS not_exhaustive ids strings", "tracebacks", "info {d}/gt.json",
    with_(GT, gt__json=js(lvis(images=[img(1, neg_category_ids=[], not_exhaustive_category_ids=["1"]),
                                       img(2, neg_category_ids=[], not_exhaustive_category_ids=[]),
                                       img(3, neg_category_ids=[], not_exhaustive_category_ids=[])]))),
    ["gt.json", "not_exhaustive_category_ids"])
add("GT iscrowd a string", "tracebacks", ED,
    with_(GT, gt__json=js(gt(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5],
                                           "iscrowd": "no"}]))), ["gt.json", "iscrowd"], owner="detection")
add("GT area a list", "tracebacks", ED,
    with_(GT, gt__json=js(gt(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5],
                                           "area": [1]}]))), ["gt.json", "area"], owner="detection")
add("GT bbox with three numbers", "tracebacks", ED,
    with_(GT, gt__json=js(gt(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5]}]))),
    ["gt.json", "bbox"])
add("GT annotations not a list", "tracebacks", ED, with_(GT, gt__json=js(gt(annotations={"a": 1}))),
    ["gt.json", "annotations"])
add("GT category name missing", "tracebacks", ED, with_(GT, gt__json=js(gt(categories=[{"id": 1}, {"id": 2}]))),
    ["gt.json", "categories.name"])
add("GT deeply nested JSON", "tracebacks", ED, with_(GT, gt__json=b"[" * 5000 + b"]" * 5000), ["gt.json"])
add("results bbox of strings", "tracebacks", ED, with_(GT, dt__json=js(dt(bbox=["a", "b", "c", "d"]))),
    ["dt.json", "bbox"])
add("results score a string", "tracebacks", ED, with_(GT, dt__json=js(dt(score="high"))), ["dt.json", "score"])
add("results entry not an object", "tracebacks", ED, with_(GT, dt__json=js([1, 2, 3])), ["dt.json"])
add("labels a struct column in parquet", "tracebacks", E.replace("test.csv", "t.parquet"),
    with_(BASE, t__parquet=lambda: parquet(label=[{"a": 1}] * 36)), ["t.parquet", "label"])
add("info on a pickle", "tracebacks", "info {d}/x.npy", {"x.npy": pickle.dumps([1, 2])}, ["x.npy", "pickle"])
add("info on a lying npy", "tracebacks", "info {d}/x.npy", {"x.npy": npy_header_lie((10**12,))},
    ["x.npy", "header says"])
add("info on an object npz", "tracebacks", "info {d}/x.npz", {"x.npz": npz(a=np.array([None], dtype=object))},
    ["x.npz", "Python objects"])
add("info on a torch pickle", "tracebacks", "info {d}/x.pt", {"x.pt": lambda: torch_bytes({"w": _Evil()})},
    ["x.pt", "weights-only"])
add("info on a device", "tracebacks", "info /dev/zero", {}, ["/dev/zero", "regular file"])
add("smote features with NaN", "tracebacks", SM + " --out {d}/aug.npz",
    with_(RTF, ftr__npy=npy(np.full((187, 8), np.nan, np.float32))), ["ftr.npy", "NaN"])
add("smote sampling strategy not JSON", "tracebacks", SM + " --sampling-strategy {{1:5} --out {d}/aug.npz", RTF,
    ["--sampling-strategy", "JSON"])
add("smote sampling strategy unknown class", "tracebacks", SM + ' --sampling-strategy {"77":5} --out {d}/aug.npz',
    RTF, ["--sampling-strategy", "77"])

# ---- overwrites: outputs that would replace an input, or each other ----------------------------------
add("eval-cls --out = --labels", "overwrites", E + " --out {d}/test.csv", BASE, ["test.csv", "--out", "--labels"])
add("eval-cls --out = --preds", "overwrites", E + " --out {d}/scores.npy", BASE, ["scores.npy", "--out", "--preds"])
add("eval-cls --out = --train-counts", "overwrites", E + " --out {d}/counts.csv", BASE,
    ["counts.csv", "--out", "--train-counts"])
add("eval-cls --out = --train-labels", "overwrites",
    "eval-cls --labels {d}/test.csv --preds {d}/scores.npy --train-labels {d}/train.csv --out {d}/train.csv",
    with_(BASE, train__csv=TRAIN_CSV), ["train.csv", "--out", "--train-labels"])
add("eval-cls --out = input via ..", "overwrites", E + " --out {d}/sub/../test.csv", BASE, ["test.csv", "--labels"],
    setup="mkdir sub")
add("eval-cls --out a symlink to the labels", "overwrites", E + " --out {d}/link.json", BASE,
    ["link.json", "--labels"], setup="symlink link.json test.csv")
add("eval-cls --out a hard link to the preds", "overwrites", E + " --out {d}/hard.npy", BASE,
    ["hard.npy", "--preds"], setup="hardlink hard.npy scores.npy")
add("eval-cls --out through a symlinked folder", "overwrites", E + " --out {d}/alias/test.csv", BASE,
    ["test.csv", "--labels"], setup="symlink alias .")
add("eval-cls --out an existing folder", "overwrites", E + " --out {d}/adir", BASE, ["adir", "--out", "folder"],
    setup="mkdir adir")
add("eval-cls --out under a file", "overwrites", E + " --out {d}/test.csv/r.json", BASE, ["--out", "is a file"])
add("eval-cls --out inside the image-folder labels", "overwrites",
    "eval-cls --labels {d}/imgs --preds {d}/s2.npy --train-counts {d}/c2.csv --out {d}/imgs/report.json",
    {"imgs/a/1.jpg": b"x", "imgs/a/2.jpg": b"x", "imgs/b/3.jpg": b"x", "s2.npy": npy(np.zeros((3, 2), np.float32)),
     "c2.csv": csv("class_id,count,name", ["0,5,a", "1,1,b"])}, ["report.json", "--out", "input folder", "--labels"])
add("eval-cls --out in a read-only folder", "overwrites", E + " --out {d}/ro/r.json", BASE,
    ["ro", "not writable", "--out"], setup="readonly ro")
add("eval-cls --out in a folder to create under a read-only one", "overwrites", E + " --out {d}/ro/new/r.json", BASE,
    ["ro", "not writable", "new"], setup="readonly ro")
add("eval-det --out = --gt", "overwrites", ED + " --out {d}/gt.json", GT, ["gt.json", "--out", "--gt"])
add("eval-det --out = --dt", "overwrites", ED + " --out {d}/dt.json", GT, ["dt.json", "--out", "--dt"])
add("eval-det --out in a read-only folder", "overwrites", ED + " --out {d}/ro/r.json", GT, ["ro", "not writable"],
    setup="readonly ro")
add("adjust --out = --preds", "overwrites", AD + " --tau 1 --out {d}/scores.npy", BASE, ["scores.npy", "--preds"])
add("adjust --export = --train-counts", "overwrites", AD + " --tau 1 --export {d}/counts.csv", BASE,
    ["counts.csv", "--export", "--train-counts"])
add("adjust --out = tune-on scores", "overwrites", AD + " --tune-on {d}/val.csv {d}/val.npy --out {d}/val.npy",
    with_(BASE, val__csv=VAL_CSV, val__npy=SCORES_NPY), ["val.npy", "--out", "--tune-on"])
add("adjust --out = --export", "overwrites", AD + " --tau 1 --out {d}/a.json --export {d}/a.json", BASE,
    ["a.json", "--export", "--out"])
add("adjust --export = --labels", "overwrites", AD + " --tau 1 --labels {d}/test.csv --export {d}/test.csv", BASE,
    ["test.csv", "--labels"])
add("weights --out = --train-counts", "overwrites", W + " --out {d}/counts.csv", BASE, ["counts.csv", "--train-counts"])
add("weights --out = --train-labels", "overwrites", "rebalance weights --train-labels {d}/train.csv --out {d}/train.csv",
    {"train.csv": TRAIN_CSV}, ["train.csv", "--train-labels"])
add("rfs --out = --gt", "overwrites", RF + " --out {d}/gt.json", GT, ["gt.json", "--gt"])
add("rfs --annotated-out = --gt", "overwrites", RF + " --out {d}/f.json --annotated-out {d}/gt.json", GT,
    ["gt.json", "--annotated-out", "--gt"])
add("rfs --annotated-out = --out", "overwrites", RF + " --out {d}/f.json --annotated-out {d}/f.json", GT,
    ["f.json", "--annotated-out", "--out"])
add("rfs --epoch-out = --out", "overwrites", RF + " --out {d}/f.csv --epoch-out {d}/f.csv", GT,
    ["f.csv", "--epoch-out", "--out"])
add("sample --out = --train-labels", "overwrites", S + " --out {d}/train.csv", {"train.csv": TRAIN_CSV},
    ["train.csv", "--train-labels"])
add("smote --out = --features", "overwrites", SM.replace("ftr.npy", "ftr.npz") + " --out {d}/ftr.npz",
    with_(RTF, ftr__npz=npz(X=FEATS_TRAIN)), ["ftr.npz", "--features"])
add("retrain --out folder holding the train features", "overwrites",
    RT.replace("{d}/head", "{d}/run").replace("{d}/ftr.npy", "{d}/run/ftr.npy"),
    {"run/ftr.npy": FEATS_TRAIN_NPY, "train.csv": TRAIN_CSV, "fte.npy": FEATS_TEST_NPY, "test.csv": TEST_CSV,
     "run/" + ".tailscope-output.json": b"{}"}, ["run", "--out", "--train-features"])
add("retrain --out folder holding test_scores.npy as an input", "overwrites",
    RT.replace("{d}/fte.npy", "{d}/run/test_scores.npy").replace("{d}/head", "{d}/run"),
    {"ftr.npy": FEATS_TRAIN_NPY, "train.csv": TRAIN_CSV, "run/test_scores.npy": FEATS_TEST_NPY, "test.csv": TEST_CSV},
    ["run", "--test-features"])
add("retrain --out a user's non-empty folder", "overwrites", RT.replace("{d}/head", "{d}/mine"),
    with_(RTF, **{"mine/notes.txt": b"keep me"}), ["mine", "other files"])
add("retrain --out = the folder of the inputs", "overwrites", RT.replace("{d}/head", "{d}"), RTF, ["--out", "input"])
add("retrain --out inside an input folder", "overwrites",
    "retrain --train-features {d}/ftr.npy --train-labels {d}/imgs --method crt --epochs 1 --out {d}/imgs/head",
    {"ftr.npy": npy(np.zeros((3, 4), np.float32)), "imgs/a/1.jpg": b"x", "imgs/a/2.jpg": b"x", "imgs/b/3.jpg": b"x"},
    ["imgs", "--out", "input folder"])
add("retrain --out in a read-only folder", "overwrites", RT.replace("{d}/head", "{d}/ro/head"), RTF,
    ["ro", "not writable"], setup="readonly ro")
add("retrain --out an existing read-only output", "overwrites", RT.replace("{d}/head", "{d}/head"),
    with_(RTF, **{"head/.tailscope-output.json": b"{}"}), ["head", "not writable"], setup="readonly head")

# ---- coercions: values that used to be converted silently ----------------------------------------------
add("label 3.0 (float) with a class table", "coercions", E, with_(BASE, test__csv=csv("label", ["3.0"] + ["1"] * 35)),
    ["test.csv", "label", "'3.0'"])
add("label 1e3", "coercions", E, with_(BASE, test__csv=csv("label", ["1e3"] + ["1"] * 35)), ["test.csv", "label", "1e3"])
add("label 2.5 without a class table", "coercions", "rebalance weights --train-labels {d}/t.csv --out {d}/w.json",
    {"t.csv": csv("label", ["1", "2.5", "0"])}, ["t.csv", "label", "2.5"])
add("labels parquet float column", "coercions", E.replace("test.csv", "t.parquet"),
    with_(BASE, t__parquet=lambda: parquet(label=Y_TEST.astype(float))), ["t.parquet", "label", "floating-point"])
add("labels parquet boolean column", "coercions", E.replace("test.csv", "t.parquet"),
    with_(BASE, t__parquet=lambda: parquet(label=(Y_TEST > 2))), ["t.parquet", "label", "true/false"])
add("counts parquet float column", "coercions", E.replace("counts.csv", "c.parquet"),
    with_(BASE, c__parquet=lambda: parquet(class_id=np.arange(6), count=np.array(COUNTS, float))),
    ["c.parquet", "count", "floating-point"])
add("count 12.5", "coercions", E, with_(BASE, counts__csv=csv("class_id,count", ["0,12.5", "1,3", "2,3", "3,3", "4,3", "5,3"])),
    ["counts.csv", "count", "12.5"])
add("count 12.0", "coercions", E, with_(BASE, counts__csv=csv("class_id,count", ["0,12.0", "1,3", "2,3", "3,3", "4,3", "5,3"])),
    ["counts.csv", "count", "12.0"])
add("count 'many'", "coercions", E, with_(BASE, counts__csv=csv("class_id,count", ["0,many", "1,3", "2,3", "3,3", "4,3", "5,3"])),
    ["counts.csv", "count", "'many'", "row 1"])
add("count empty cell", "coercions", E, with_(BASE, counts__csv=csv("class_id,count", ["0,", "1,3", "2,3", "3,3", "4,3", "5,3"])),
    ["counts.csv", "count", "(empty)"])
add("count 'true'", "coercions", E, with_(BASE, counts__csv=csv("class_id,count", ["0,true", "1,3", "2,3", "3,3", "4,3", "5,3"])),
    ["counts.csv", "count", "'true'"])
add("class id 1.5 in counts", "coercions", E, with_(BASE, counts__csv=csv("class_id,count", ["0,5", "1.5,3", "2,3", "3,3", "4,3", "5,3"])),
    ["counts.csv", "class_id", "1.5"])
add("class id a name in counts", "coercions", E, with_(BASE, counts__csv=csv("class_id,count", ["cat,5", "dog,3"])),
    ["counts.csv", "class_id", "'cat'"])
add("instance_count not an integer", "coercions", E,
    with_(BASE, counts__csv=csv("class_id,count,instance_count", [f"{i},{n},x" for i, n in enumerate(COUNTS)])),
    ["counts.csv", "instance_count", "'x'"])
add("predicted ids 1-D float", "coercions", E, with_(BASE, scores__npy=npy(Y_TEST.astype(np.float64))),
    ["scores.npy", "array", "integers"])
add("predicted ids 1-D float with fractions", "coercions", E, with_(BASE, scores__npy=npy(Y_TEST + 0.7)),
    ["scores.npy", "integers"])
add("predicted ids boolean", "coercions", E, with_(BASE, scores__npy=npy(Y_TEST > 2)), ["scores.npy", "boolean"])
add("scores boolean 2-D", "coercions", E, with_(BASE, scores__npy=npy(SCORES > 0)), ["scores.npy", "boolean"])
add("predicted ids uint64 beyond int64", "coercions", E,
    with_(BASE, scores__npy=npy(np.full(36, 2**63 + 5, np.uint64))), ["scores.npy", "64-bit"])
add("predicted label column float", "coercions", E.replace("scores.npy", "p.csv"),
    with_(BASE, p__csv=csv("pred", ["1.0"] * 36)), ["p.csv", "pred", "'1.0'"])
add("score column text", "coercions", E.replace("scores.npy", "p.csv"),
    with_(BASE, p__csv=csv(",".join(f"c{i}" for i in range(6)), ["0.1,0.2,abc,0.1,0.1,0.5"] * 36)),
    ["p.csv", "c2", "'abc'"])
add("score column 'true'", "coercions", E.replace("scores.npy", "p.csv"),
    with_(BASE, p__csv=csv(",".join(f"c{i}" for i in range(6)), ["true,0.2,0.1,0.1,0.1,0.5"] * 36)),
    ["p.csv", "c0", "'true'"])
add("results image_id 42.9", "coercions", ED, with_(GT, dt__json=js(dt(image_id=1.9))), ["dt.json", "image_id"],
    owner="detection")
add("results image_id 2.0", "coercions", ED, with_(GT, dt__json=js(dt(image_id=2.0))), ["dt.json", "image_id"],
    owner="detection")
add("results category true", "coercions", ED, with_(GT, dt__json=js(dt(category_id=True))), ["dt.json", "category_id"],
    owner="detection")
add("results image_id a string", "coercions", ED, with_(GT, dt__json=js(dt(image_id="1"))), ["dt.json", "image_id"],
    owner="detection")
add("results bbox coordinate a string", "coercions", ED, with_(GT, dt__json=js(dt(bbox=["10", 10, 20, 20]))),
    ["dt.json", "bbox"], owner="detection")
add("results garbage RLE", "coercions", ED + " --iou-type segm",
    with_(GT, gt__json=js(gt(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5],
                                           "segmentation": [[1, 1, 6, 1, 6, 6]], "area": 25}])),
          dt__json=js([{"image_id": 1, "category_id": 1, "score": 0.5,
                        "segmentation": {"size": [100, 100], "counts": "!!garbage!!"}}])),
    ["dt.json", "segmentation"], owner="detection")
add("GT image id 1.5", "coercions", ED, with_(GT, gt__json=js(gt(images=[img(1.5), img(2), img(3)]))),
    ["gt.json", "id"], owner="detection")
add("GT category_id true", "coercions", ED,
    with_(GT, gt__json=js(gt(annotations=[{"id": 1, "image_id": 1, "category_id": True, "bbox": [1, 1, 5, 5]}]))),
    ["gt.json", "category_id"], owner="detection")
add("GT bbox coordinate a string", "coercions", ED,
    with_(GT, gt__json=js(gt(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": ["1", 1, 5, 5]}]))),
    ["gt.json", "bbox"], owner="detection")
add("rfs image_count frequency without the field", "coercions",
    RF + " --frequency image_count --n-train-images 100 --out {d}/f.json", GT, ["gt.json", "image_count"],
    owner="detection")

# ---- degenerate inputs -------------------------------------------------------------------------------
add("retrain on a single class", "degenerate", RT,
    with_(RTF, train__csv=csv("label", ["0"] * 187)), ["train.csv", "label", "at least two"])
add("retrain on a single class of several ids", "degenerate", RT,
    with_(RTF, train__csv=csv("label", ["4"] * 187), test__csv=csv("label", ["4"] * 36)), ["train.csv", "label", "'4'"])
add("retrain labels with a header only", "degenerate", RT, with_(RTF, train__csv=b"label\n"), ["train.csv", "no rows"])
add("retrain features empty", "degenerate", RT, with_(RTF, ftr__npy=npy(np.zeros((0, 8), np.float32))),
    ["ftr.npy", "empty"])
add("eval-cls labels with a header only", "degenerate", E, with_(BASE, test__csv=b"id,label\n"), ["test.csv", "no rows"])
add("eval-cls labels whitespace only", "degenerate", E, with_(BASE, test__csv=b" \n\n  \n"), ["test.csv", "rows"])
add("eval-cls an empty labels file", "degenerate", E, with_(BASE, test__csv=b""), ["test.csv", "empty"])
add("eval-cls an empty scores file", "degenerate", E, with_(BASE, scores__npy=b""), ["scores.npy", "empty"])
add("weights with every count 0", "degenerate", W + " --out {d}/w.json",
    with_(BASE, counts__csv=csv("class_id,count", ["0,0", "1,0"])), ["counts.csv", "count", "0 training samples"])
add("weights negative count", "degenerate", W + " --out {d}/w.json",
    with_(BASE, counts__csv=csv("class_id,count", ["0,5", "1,-3"])), ["counts.csv", "count", ">= 0", "row 2"])
add("weights duplicate class ids", "degenerate", W + " --out {d}/w.json",
    with_(BASE, counts__csv=csv("class_id,count", ["0,5", "0,3"])), ["counts.csv", "duplicate class ids"])
add("weights counts without a count column", "degenerate", W + " --out {d}/w.json",
    with_(BASE, counts__csv=csv("class_id,size", ["0,5", "1,3"])), ["counts.csv", "count"])
add("adjust a class without training samples", "degenerate", AD + " --tau 1 --out {d}/a.npy",
    with_(BASE, counts__csv=csv("class_id,count", [f"{i},{n}" for i, n in enumerate([5, 0, 3, 2, 1, 1])])),
    ["counts.csv", "count", "--pseudo-count"])
add("adjust predicted labels, not scores", "degenerate", AD + " --tau 1 --out {d}/a.npy",
    with_(BASE, scores__npy=npy(Y_TEST)), ["scores.npy", "scores", "predicted labels"])
add("smote a single class", "degenerate", SM + " --out {d}/aug.npz", with_(RTF, train__csv=csv("label", ["0"] * 187)),
    ["train.csv", "label", "two classes"])
add("sample an unknown split only", "degenerate", S + " --out {d}/i.npy",
    {"train.csv": csv("label,split", ["0,train", "1,holdout"])}, ["train.csv", "split", "holdout"])
add("labels several splits, none chosen", "degenerate", "info {d}/x.txt",
    {"x.txt": b"a.jpg 0\nb.jpg 1\nc.jpg\n"}, ["x.txt", "line 3"])
add("labels empty label", "degenerate", E, with_(BASE, test__csv=csv("id,label", ["a,1", "b,", "c,2"])),
    ["test.csv", "label", "empty label", "row 2"])
add("labels duplicate sample ids", "degenerate", E, with_(BASE, test__csv=csv("id,label", ["a,1", "a,2"])),
    ["test.csv", "id", "duplicate"])
add("labels unknown split value", "degenerate", E, with_(BASE, test__csv=csv("label,split", ["1,test", "2,tset"])),
    ["test.csv", "split", "tset"])
add("labels negative ids without a table", "degenerate", "rebalance weights --train-labels {d}/t.csv --out {d}/w.json",
    {"t.csv": csv("label", ["0", "-1", "2"])}, ["t.csv", "label", "negative"])
add("labels unknown id for the table", "degenerate", E, with_(BASE, test__csv=csv("label", ["0", "9"])),
    ["test.csv", "label", "9"])
add("labels unknown name", "degenerate", E, with_(BASE, test__csv=csv("label", ["c0", "zebra"])),
    ["test.csv", "label", "zebra"])
add("labels name shared by two classes", "degenerate", E,
    with_(BASE, counts__csv=csv("class_id,count,name", ["0,5,crane", "1,3,crane", "2,3,x", "3,3,y", "4,3,z", "5,3,w"]),
          test__csv=csv("label", ["crane", "x"])), ["test.csv", "label", "crane", "ambiguous"])
add("labels no label column", "degenerate", E, with_(BASE, test__csv=csv("foo,bar", ["1,2"])), ["test.csv", "label"])
add("text list with one field", "degenerate", E.replace("test.csv", "t.txt"), with_(BASE, t__txt=b"img1.jpg\n"),
    ["t.txt", "line 1"])
add("text list duplicate paths", "degenerate", E.replace("test.csv", "t.txt"), with_(BASE, t__txt=b"a.jpg 0\na.jpg 1\n"),
    ["t.txt", "path", "duplicate"])
add("goemotions tsv bad line", "degenerate", "info {d}/g.tsv", {"g.tsv": b"hi\t1\tid1\nbad line\t\n"},
    ["g.tsv", "labels"])
add("preds fewer rows than labels", "degenerate", E, with_(BASE, scores__npy=npy(SCORES[:30])), ["scores.npy", "30 predictions"])
add("preds score columns != classes", "degenerate", E, with_(BASE, scores__npy=npy(SCORES[:, :4])),
    ["scores.npy", "scores", "4 score columns"])
add("preds NaN score", "degenerate", E, with_(BASE, scores__npy=npy(np.where(np.eye(36, 6) > 0, np.nan, SCORES))),
    ["scores.npy", "scores", "NaN"])
add("preds duplicate sample ids", "degenerate", E.replace("scores.npy", "p.csv"),
    with_(BASE, p__csv=csv("id,pred", ["t0,1"] * 36)), ["p.csv", "id", "duplicate"])
add("preds missing a labelled sample", "degenerate", E.replace("scores.npy", "p.csv"),
    with_(BASE, p__csv=csv("id,pred", [f"x{i},1" for i in range(36)])), ["p.csv", "id", "no prediction"])
add("preds unknown predicted id", "degenerate", E.replace("scores.npy", "p.npy"),
    with_(BASE, p__npy=npy(np.full(36, 17))), ["p.npy", "17"])
add("eval-det results empty list", "degenerate", ED, with_(GT, dt__json=b"[]"), ["dt.json", "empty"])
add("eval-det results entry without score", "degenerate", ED,
    with_(GT, dt__json=js([{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}])), ["dt.json", "score"])
add("eval-det results unknown category", "degenerate", ED, with_(GT, dt__json=js(dt(category_id=99))),
    ["dt.json", "category_id", "99"])
add("eval-det results unknown image", "degenerate", ED, with_(GT, dt__json=js(dt(image_id=99))),
    ["dt.json", "image_id", "99"])
add("eval-det results NaN score", "degenerate", ED, with_(GT, dt__json=b'[{"image_id":1,"category_id":1,"bbox":[1,1,2,2],"score":NaN}]'),
    ["dt.json"])
add("eval-det GT without categories", "degenerate", ED, with_(GT, gt__json=js(gt(categories=[]))), ["gt.json", "categories"])
add("eval-det GT a list", "degenerate", ED, with_(GT, gt__json=js([1, 2])), ["gt.json"])
add("eval-det GT duplicate image ids", "degenerate", ED, with_(GT, gt__json=js(gt(images=[img(1), img(1), img(3)]))),
    ["gt.json", "images.id", "duplicate"])
add("eval-det GT annotation on unknown image", "degenerate", ED,
    with_(GT, gt__json=js(gt(annotations=[{"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 1, 5, 5]}]))),
    ["gt.json", "annotations.image_id"])
add("eval-det GT negative box width", "degenerate", ED,
    with_(GT, gt__json=js(gt(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, -5, 5]}]))),
    ["gt.json", "bbox", "width"])
add("eval-det --style lvis on COCO GT", "degenerate", ED + " --style lvis", GT, ["gt.json", "neg_category_ids"])
add("eval-det --iou-type segm without masks", "degenerate", ED + " --iou-type segm", GT, ["gt.json", "segmentation"])
add("rfs GT without images", "degenerate", RF + " --out {d}/f.json", with_(GT, gt__json=js(gt(images=[], annotations=[]))),
    ["gt.json", "images"])

# ---- numbers: options out of range ----------------------------------------------------------------
for i, (cmd, opt, val, files) in enumerate([
        (E, "--seed", "-1", BASE), (E, "--seed", "4294967296", BASE), (E, "--seed", "1.5", BASE),
        (E, "--seed", "abc", BASE), (E, "--bootstrap", "-1", BASE), (E, "--bootstrap", "10000000000", BASE),
        (S + " --out {d}/i.npy", "--num-samples", "1000000000000", {"train.csv": TRAIN_CSV}),
        (S + " --out {d}/i.npy", "--num-samples", "0", {"train.csv": TRAIN_CSV}),
        (S + " --out {d}/i.npy", "--seed", "-5", {"train.csv": TRAIN_CSV}),
        (S + " --out {d}/i.npy", "--epoch", "-1", {"train.csv": TRAIN_CSV}),
        (S + " --strategy progressive --out {d}/i.npy", "--num-epochs", "0", {"train.csv": TRAIN_CSV}),
        (S + " --strategy over --out {d}/i.npy", "--target", "0", {"train.csv": TRAIN_CSV}),
        (S + " --strategy rfs --out {d}/i.npy", "--threshold", "0", {"train.csv": TRAIN_CSV}),
        (RT, "--hidden", "0", RTF), (RT, "--epochs", "0", RTF), (RT, "--epochs", "1000000000", RTF),
        (RT, "--batch-size", "0", RTF), (RT, "--lr", "0", RTF), (RT, "--lr", "nan", RTF),
        (RT, "--weight-decay", "-1", RTF), (RT, "--beta", "1", RTF), (RT, "--gamma", "-2", RTF),
        (RT, "--tau", "inf", RTF), (RT, "--tau-norm", "-1", RTF), (RT, "--smote-k", "0", RTF),
        (RT, "--seed", "-1", RTF), (RT, "--bootstrap", "-3", RTF),
        (W + " --out {d}/w.json", "--beta", "2", BASE), (W + " --out {d}/w.json", "--beta", "-0.1", BASE),
        (RF + " --out {d}/f.json", "--threshold", "0", GT), (RF + " --out {d}/f.json", "--threshold", "-1", GT),
        (RF + " --out {d}/f.json", "--threshold", "inf", GT),
        (RF + " --frequency image_count --out {d}/f.json", "--n-train-images", "0", GT),
        (RF + " --out {d}/f.json --epoch-out {d}/e.npy", "--seed", "-1", GT),
        (SM + " --out {d}/aug.npz", "--k-neighbors", "0", RTF), (SM + " --out {d}/aug.npz", "--seed", "99999999999", RTF),
        (ED, "--max-dets", "0", GT), (ED, "--max-dets", "-5", GT),
        (AD + " --tau 1", "--pseudo-count", "-1", BASE), (AD, "--tau", "nan", BASE), (AD, "--tau", "-inf", BASE),
        (AD + " --tau 1", "--max-head-drop", "2", BASE),
        (AD + " --tune-on {d}/val.csv {d}/val.npy", "--taus", "2:0:5", with_(BASE, val__csv=VAL_CSV, val__npy=SCORES_NPY)),
        (AD + " --tune-on {d}/val.csv {d}/val.npy", "--taus", "0:2:0", with_(BASE, val__csv=VAL_CSV, val__npy=SCORES_NPY)),
        (AD + " --tune-on {d}/val.csv {d}/val.npy", "--taus", "0:nan:5", with_(BASE, val__csv=VAL_CSV, val__npy=SCORES_NPY)),
]):
    sub = cmd.split()[0] if not cmd.startswith("rebalance") else " ".join(cmd.split()[:2])
    add(f"{sub} {opt} {val}", "numbers", cmd.split() + [opt, val], files, [opt])

# ---- messages: the wording -----------------------------------------------------------------------
add("file above TAILSCOPE_MAX_FILE_BYTES=1000", "messages", E, with_(BASE, scores__npy=npy(SCORES.astype(np.float64))),
    ["scores.npy", "size", "1.8 KiB, above the 1,000 bytes limit"], env={"TAILSCOPE_MAX_FILE_BYTES": "1000"})
add("TAILSCOPE_MAX_FILE_BYTES not a size", "messages", E, BASE, ["TAILSCOPE_MAX_FILE_BYTES", "'lots'"],
    env={"TAILSCOPE_MAX_FILE_BYTES": "lots"})
add("file above a limit in MiB", "messages", E, with_(BASE, scores__npy=npy(np.zeros((36, 40000), np.float32))),
    ["scores.npy", "5.5 MiB, above the 1.0 MiB limit"], env={"TAILSCOPE_MAX_FILE_BYTES": "1MiB"})
add("usage error is one line", "messages", "eval-cls --labels", {}, ["--labels", "expected one argument"])
add("unknown subcommand is one line", "messages", "evaluate-everything", {}, ["invalid choice"])
add("unknown option is one line", "messages", E + " --frobnicate 3", BASE, ["unrecognized arguments", "--frobnicate"])
add("missing input file", "messages", E.replace("scores.npy", "nope.npy"), BASE, ["nope.npy", "no such"])
add("input is a folder", "messages", E.replace("scores.npy", "adir"), BASE, ["adir", "folder"], setup="mkdir adir")
add("gzip name, not gzip", "messages", E.replace("test.csv", "t.txt.gz"), with_(BASE, t__txt__gz=b"a.jpg 0\n"),
    ["t.txt.gz", "not gzip"])
add("gzip truncated", "messages", E.replace("test.csv", "t.txt.gz"),
    with_(BASE, t__txt__gz=gzip.compress("".join(f"img{i}.jpg {i % 6}\n" for i in range(3000)).encode())[:400]),
    ["t.txt.gz", "gzip"])
add("labels not UTF-8", "messages", E.replace("test.csv", "t.txt"), with_(BASE, t__txt=b"a.jpg \xff\xfe\x00 0\n" * 3),
    ["t.txt"])
add("labels named .md", "messages", E.replace("test.csv", "t.md"), with_(BASE, t__md=b"# notes\n"), ["t.md", "not a label file"])
add("npy named .csv", "messages", E.replace("test.csv", "t.csv"), with_(BASE, t__csv=SCORES_NPY), ["t.csv", "npy"])
add("csv named .parquet", "messages", E.replace("test.csv", "t.parquet"), with_(BASE, t__parquet=TEST_CSV),
    ["t.parquet", "Parquet"])
add("text named .npy", "messages", E, with_(BASE, scores__npy=b"0.1,0.2\n"), ["scores.npy", "text"])
add("GT truncated JSON", "messages", ED, with_(GT, gt__json=js(gt())[:-30]), ["gt.json", "invalid JSON"])
add("GT not JSON", "messages", ED, with_(GT, gt__json=b"images: none\n"), ["gt.json", "not JSON"])
add("GT JSON integer beyond 64 bits", "messages", ED,
    with_(GT, gt__json=js(gt())[:-2].replace(b'"id": 1,', b'"id": 123456789012345678901234567890,', 1) + b"]}"),
    ["gt.json"])
add("unknown bins scheme", "messages", E + " --bins thirds", BASE, ["bins", "thirds"])
add("retrain val features without labels", "messages", RT + " --val-features {d}/fte.npy", RTF, ["--val-labels", "missing"])
add("retrain unknown device", "messages", RT + " --device tpu", RTF, ["device", "tpu"])
add("retrain tau-norm on an MLP", "messages", RT.replace("--method crt", "--method tau-norm --model mlp"), RTF,
    ["model", "linear"])
add("adjust validation kind differs", "messages", AD + " --tune-on {d}/val.csv {d}/val.npy",
    with_(BASE, val__csv=VAL_CSV, val__npy=npy(np.full((36, 6), 1 / 6, np.float32))), ["val.npy", "scores", "logits"])

# ---- exports: bad output formats and targets ----------------------------------------------------------
add("weights --out unknown format", "exports", W + " --out {d}/w.txt", BASE, ["w.txt", "--out", "format"])
add("weights --out without an extension", "exports", W + " --out {d}/weights", BASE, ["weights", "--out", "no extension"])
add("rfs --out parquet", "exports", RF + " --out {d}/f.parquet", GT, ["f.parquet", "--out", "format"])
add("rfs --annotated-out csv", "exports", RF + " --out {d}/f.json --annotated-out {d}/a.csv", GT,
    ["a.csv", "--annotated-out", "format"])
add("rfs --epoch-out json", "exports", RF + " --out {d}/f.json --epoch-out {d}/e.json", GT,
    ["e.json", "--epoch-out", "format"])
add("sample --out json", "exports", S + " --out {d}/i.json", {"train.csv": TRAIN_CSV}, ["i.json", "--out", "format"])
add("smote --out npy", "exports", SM + " --out {d}/aug.npy", RTF, ["aug.npy", "--out", "format"])
add("retrain --format unknown", "exports", RT + " --format onnx", RTF, ["--format", "onnx"])
add("adjust --out an existing folder", "exports", AD + " --tau 1 --out {d}/adir", BASE, ["adir", "--out", "folder"],
    setup="mkdir adir")
add("adjust --export under a file", "exports", AD + " --tau 1 --export {d}/scores.npy/a.json", BASE,
    ["--export", "is a file"])


# ---- the later subcommands: convert, --dask, --compare, adjust-ml, workspace, augment -------------------------------
_ML = np.random.default_rng(7)
ML_VAL = npy((_ML.random((36, 6)) < 0.3).astype(np.int8))
ML_SCORES = npy(_ML.normal(size=(36, 6)).astype(np.float32))
AML = "adjust-ml --preds {d}/mls.npy --train-counts {d}/counts.csv --method thresholds --tune-on {d}/mlv.npy {d}/mls.npy"
AMLF = {"mls.npy": ML_SCORES, "mlv.npy": ML_VAL, "counts.csv": COUNTS_CSV}
CV = "convert scores --preds {d}/scores.npy --labels {d}/test.csv --train-counts {d}/counts.csv"
add("convert scores --out an existing file", "overwrites", CV + " --out {d}/counts.csv", BASE,
    ["counts.csv", "--out", "existing file"])
add("convert scores from a CSV", "messages", "convert scores --preds {d}/test.csv --out {d}/o", BASE,
    ["test.csv", ".npy"])
add("convert labels given a score array", "coercions", "convert labels --labels {d}/scores.npy --out {d}/o", BASE,
    ["scores.npy", "0/1"])
add("convert detections with a 3-number bbox", "tracebacks", "convert detections --dt {d}/d3.json --gt {d}/gt.json --out {d}/o",
    with_(GT, d3__json=js([{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}])), ["d3.json", "bbox"])
add("convert detections --out the GT", "overwrites", "convert detections --dt {d}/dt.json --gt {d}/gt.json --out {d}/gt.json",
    GT, ["gt.json", "--out"])
add("convert gt given a results list", "messages", "convert gt --gt {d}/dt.json --out {d}/o", GT,
    ["dt.json", "results file"])
add("--dask local:0", "numbers", E + " --dask local:0", BASE, ["--dask", "1 <= N"])
add("--dask unknown scheme", "messages", E + " --dask foo://x", BASE, ["--dask", "tcp://"])
add("eval-det --dask local:abc", "messages", ED + " --dask local:abc", GT, ["--dask", "local:abc"])
add("eval-det --compare a CSV", "messages", ED + " --compare {d}/test.csv", with_(GT, test__csv=TEST_CSV),
    ["test.csv", "JSON"])
add("eval-det --compare with a bad bbox", "tracebacks", ED + " --compare {d}/d3.json",
    with_(GT, d3__json=js([{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}])), ["d3.json", "bbox"])
add("eval-det --bootstrap negative", "numbers", ED + " --bootstrap -5", GT, ["--bootstrap", "-5"])
add("adjust-ml scores with a missing class column", "tracebacks",
    AML.replace("{d}/mls.npy --train", "{d}/m5.npy --train"), with_(AMLF, m5__npy=npy(np.zeros((36, 5), np.float32))),
    ["m5.npy", "5 score columns"])
add("adjust-ml --out over --preds", "overwrites", AML + " --out {d}/mls.npy", AMLF, ["mls.npy", "--out", "--preds"])
add("adjust-ml target precision above 1", "numbers", AML + " --objective precision --target 1.5", AMLF,
    ["target", "(0, 1]"])
add("adjust-ml prior without the train size", "messages",
    "adjust-ml --preds {d}/mls.npy --train-counts {d}/counts.csv --method prior --tau 1", AMLF, ["--n-train"])
add("workspace show on a plain folder", "messages", "workspace show --workspace {d}/plain", {"plain/a.txt": b"x"},
    ["plain", "manifest.json"])
add("workspace with a damaged manifest", "tracebacks", "workspace show --workspace {d}/ws",
    {"ws/manifest.json": b'{"format": 1, garbage'}, ["manifest.json", "not valid JSON"])
add("workspace eval of a plain folder", "messages", "workspace eval --workspace {d}/plain --run x", {"plain/a.txt": b"x"},
    ["plain", "manifest.json"])
add("augment copy-paste with no image folder", "messages",
    "augment copy-paste --gt {d}/gt.json --images {d}/none --target rfs:0.001 --out {d}/o --seed 0", GT,
    ["none", "image folder"])
add("augment copy-paste negative seed", "numbers",
    "augment copy-paste --gt {d}/gt.json --images {d}/imgs --target rfs:0.001 --out {d}/o --seed -1",
    with_(GT, **{"imgs/x.txt": b"x"}), ["seed", "-1"])
add("augment copy-paste target not a number", "messages",
    "augment copy-paste --gt {d}/gt.json --images {d}/imgs --target rfs:abc --out {d}/o --seed 0",
    with_(GT, **{"imgs/x.txt": b"x"}), ["rfs:abc", "--target", "not a number"])
add("augment copy-paste beta out of range", "numbers",
    "augment copy-paste --gt {d}/gt.json --images {d}/imgs --target effective-number:1.5 --out {d}/o --seed 0",
    with_(GT, **{"imgs/x.txt": b"x"}), ["--target", "beta must be in [0, 1)"])
add("augment copy-paste --out inside --images", "overwrites",
    "augment copy-paste --gt {d}/gt.json --images {d} --target rfs:0.001 --out {d}/o --seed 0", GT,
    ["--out", "--images"])


def _corrupt_deflate() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("scores.npy", SCORES_NPY)
    raw = bytearray(buf.getvalue())
    start = raw.index(b"scores.npy") + len(b"scores.npy") + 8   # inside the compressed stream, after the header
    for i in range(start, start + 40):
        raw[i] ^= 0xA5
    return bytes(raw)


def by_category() -> dict[str, int]:
    out: dict[str, int] = {}
    for c in CASES:
        out[c.category] = out.get(c.category, 0) + 1
    return out
