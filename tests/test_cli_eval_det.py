"""``python -m lt_core eval-det``: numbers equal the references, the JSON contract, exit 2 on bad input."""
from __future__ import annotations

import contextlib
import copy
import gzip
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lt_core.cli import main

np.float = float  # lvis 0.5.3
from lvis import LVIS, LVISEval, LVISResults  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]
COCO_GT = DATA / "coco_val2014_100" / "instances_val2014_100.json.gz"
COCO_BBOX = DATA / "coco_val2014_100" / "instances_val2014_fakebbox100_results.json.gz"
COCO_SEGM = DATA / "coco_val2014_100" / "instances_val2014_fakesegm100_results.json.gz"
LVIS_GT = DATA / "lvis_v0_5_val_100" / "lvis_val_100.json.gz"
PER_CLASS_KEYS = {"category_id", "name", "frequency", "image_count", "instance_count", "AP"}


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _coco_ref(iou_type: str, dt: Path):
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO(str(_gunzip(COCO_GT)))
        cd = cg.loadRes(json.load(gzip.open(dt)))
        E = COCOeval(cg, cd, iou_type)
        E.evaluate()
        E.accumulate()
        E.summarize()
    return E


_TMP = {}


def _gunzip(p: Path) -> Path:
    if p not in _TMP:
        import tempfile
        out = Path(tempfile.mkdtemp()) / p.name[:-3]
        out.write_bytes(gzip.decompress(p.read_bytes()))
        _TMP[p] = out
    return _TMP[p]


@pytest.mark.parametrize("iou_type,dt", [("bbox", COCO_BBOX), ("segm", COCO_SEGM)])
def test_coco_report_matches_pycocotools(tmp_path, capsys, iou_type, dt):
    out = tmp_path / "report.json"
    before = (_sha(COCO_GT), _sha(dt))
    rc = main(["eval-det", "--gt", str(COCO_GT), "--dt", str(dt), "--iou-type", iou_type, "--out", str(out)])
    assert rc == 0
    assert (_sha(COCO_GT), _sha(dt)) == before
    rep = json.loads(out.read_text())
    E = _coco_ref(iou_type, dt)
    for i, k in enumerate(["AP", "AP50", "AP75", "APs", "APm", "APl"]):
        assert abs(rep[k] - E.stats[i]) <= 1e-6
    assert "APr" not in rep  # COCO categories carry no frequency
    pcs = rep["per_class"]
    assert len(pcs) == 80 and set(pcs[0]) == PER_CLASS_KEYS
    P = E.eval["precision"][:, :, :, 0, -1]
    cats = sorted(c["category_id"] for c in pcs)
    by_id = {c["category_id"]: c for c in pcs}
    for j, cid in enumerate(cats):
        v = P[:, :, j]
        ref = v[v > -1].mean() if (v > -1).any() else -1
        assert abs(by_id[cid]["AP"] - ref) <= 1e-6
    assert any(c["AP"] == -1 for c in pcs)
    text = capsys.readouterr().out
    assert "style coco" in text and "AP50" in text


def test_lvis_style_is_the_default_for_lvis_gt_and_matches_lvis_api(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from test_detection_exact import jitter_dets
    gd = json.load(gzip.open(LVIS_GT))
    dets = jitter_dets(gd, 21)
    gt_p, dt_p, out = tmp_path / "gt.json", tmp_path / "dt.json", tmp_path / "r.json"
    gt_p.write_text(json.dumps(gd))
    dt_p.write_text(json.dumps(dets))
    assert main(["eval-det", "--gt", str(gt_p), "--dt", str(dt_p), "--out", str(out)]) == 0
    rep = json.loads(out.read_text())
    lg = LVIS(str(gt_p))
    E = LVISEval(lg, LVISResults(lg, copy.deepcopy(dets)), "bbox")
    with contextlib.redirect_stdout(io.StringIO()):
        E.run()
    for k in ["AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf"]:
        assert abs(rep[k] - E.results[k]) <= 1e-6, k
    assert rep["style"] == "lvis"
    freq = {c["id"]: c["frequency"] for c in gd["categories"]}
    assert all(c["frequency"] == freq[c["category_id"]] for c in rep["per_class"])
    # --max-dets and --style coco change the protocol
    out2 = tmp_path / "r2.json"
    assert main(["eval-det", "--gt", str(gt_p), "--dt", str(dt_p), "--style", "coco", "--max-dets", "20",
                 "--out", str(out2)]) == 0
    assert json.loads(out2.read_text())["style"] == "coco"


@pytest.mark.parametrize("args,needle", [
    (["--gt", "missing.json", "--dt", str(COCO_BBOX)], "missing.json"),
    (["--gt", str(COCO_GT), "--dt", str(LVIS_GT)], "lvis_val_100.json.gz"),
    (["--gt", str(COCO_GT), "--dt", str(COCO_BBOX), "--style", "lvis"], "neg_category_ids"),
    (["--gt", str(COCO_GT), "--dt", str(COCO_BBOX), "--iou-type", "segm"], "segmentation"),
    (["--gt", str(COCO_GT), "--dt", str(COCO_BBOX), "--max-dets", "0"], "--max-dets"),
    (["--gt", str(COCO_BBOX), "--dt", str(COCO_BBOX)], "instances_val2014_fakebbox100_results"),
])
def test_bad_input_exits_2_with_a_clear_message(capsys, args, needle):
    rc = main(["eval-det", *args])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err


def test_module_entry_point_exit_code(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('[{"image_id": 1,')
    r = subprocess.run([sys.executable, "-m", "lt_core", "eval-det", "--gt", str(COCO_GT), "--dt", str(bad)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "broken.json" in r.stderr and "Traceback" not in r.stderr


def test_ar_keys_bootstrap_and_compare_in_the_report(tmp_path):
    """AR1 / AR10 / AR100 / ARs / ARm / ARl equal pycocotools' stats[6:12]; ci and compare keys."""
    out = tmp_path / "r.json"
    dets = json.loads(gzip.decompress(COCO_BBOX.read_bytes()))
    other = tmp_path / "other.json"
    other.write_text(json.dumps([dict(d, score=d["score"] * 0.5) if i % 3 == 0 else d for i, d in enumerate(dets)]))
    before = _sha(other)
    rc = main(["eval-det", "--gt", str(COCO_GT), "--dt", str(COCO_BBOX), "--bootstrap", "200", "--seed", "3",
               "--compare", str(other), "--out", str(out)])
    assert rc == 0 and _sha(other) == before
    rep = json.loads(out.read_text())
    E = _coco_ref("bbox", COCO_BBOX)
    for i, k in enumerate(["AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]):
        assert rep[k] == float(E.stats[6 + i]), k
    assert set(rep["ci"]) >= {"AP", "AP50"} and rep["bootstrap"] == {"n": 200, "seed": 3, "unit": "image"}
    lo, hi = rep["ci"]["AP"]
    assert lo <= rep["AP"] <= hi
    assert set(rep["compare"]["AP"]) == {"delta", "low", "high"}
    assert rep["compare"]["AP"]["low"] <= rep["compare"]["AP"]["delta"] <= rep["compare"]["AP"]["high"]
    assert all(set(r) == {"category_id", "name", "n_images", "estimate", "low", "high"} for r in rep["compare_per_class"])
    # same seed, same intervals
    out2 = tmp_path / "r2.json"
    assert main(["eval-det", "--gt", str(COCO_GT), "--dt", str(COCO_BBOX), "--bootstrap", "200", "--seed", "3",
                 "--out", str(out2)]) == 0
    assert json.loads(out2.read_text())["ci"] == rep["ci"]


def test_lvis_ar_keys_and_frequencies_file(tmp_path):
    gd = json.load(gzip.open(LVIS_GT))
    sys.path.insert(0, str(Path(__file__).parent))
    from test_detection_exact import jitter_dets
    dets = jitter_dets(gd, 8)
    gt_p, dt_p, out = tmp_path / "gt.json", tmp_path / "dt.json", tmp_path / "r.json"
    gt_p.write_text(json.dumps(gd))
    dt_p.write_text(json.dumps(dets))
    cats = DATA / "lvis_v0_5_val_100" / "lvis_v0_5_categories.csv"
    assert main(["eval-det", "--gt", str(gt_p), "--dt", str(dt_p), "--frequencies", str(cats), "--tide",
                 "--bootstrap", "50", "--out", str(out)]) == 0
    rep = json.loads(out.read_text())
    lg = LVIS(str(gt_p))
    E = LVISEval(lg, LVISResults(lg, copy.deepcopy(dets)), "bbox")
    with contextlib.redirect_stdout(io.StringIO()):
        E.run()
    for k in ["AR@300", "ARs@300", "ARm@300", "ARl@300", "APr", "APc", "APf"]:
        assert rep[k] == float(E.results[k]), k
    assert rep["counts_source"].startswith("train: lvis_v0_5_categories.csv")
    # APr / APc / APf and AP by bin agree (the letters decide the bins)
    assert rep["ci"]["APr"] == rep["ci"]["AP[rare]"]
    train = {int(r.split(",")[0]): int(r.split(",")[4]) for r in cats.read_text().splitlines()[1:]}
    assert all(c["image_count"] == train[c["category_id"]] for c in rep["per_class"])
    assert set(rep["tide"]["main"]) == {"Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"}


def test_compare_is_an_input_of_the_output_guard(tmp_path, capsys):
    other = tmp_path / "other.json"
    other.write_bytes(gzip.decompress(COCO_BBOX.read_bytes()))
    before = _sha(other)
    rc = main(["eval-det", "--gt", str(COCO_GT), "--dt", str(COCO_BBOX), "--compare", str(other), "--out", str(other)])
    assert rc == 2 and _sha(other) == before
    assert "--compare" in capsys.readouterr().err


@pytest.mark.parametrize("args,needle", [
    (["--bootstrap", "0"], "--bootstrap"),
    (["--seed", "-1"], "--seed"),
    (["--bins", "nonsense"], "--bins"),
])
def test_bad_numeric_options_exit_2(capsys, args, needle):
    rc = main(["eval-det", "--gt", str(COCO_GT), "--dt", str(COCO_BBOX), *args])
    assert rc == 2 and needle in capsys.readouterr().err
