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
