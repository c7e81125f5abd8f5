"""Detection on Dask: local:2 equals the single-process evaluator bit for bit (hence pycocotools /
lvis-api, which tests/test_detection_exact.py compares it with), bootstrap CIs included; the
streamed conversion of results JSON; damaged partitions."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")
pytest.importorskip("lt_core.detection.bootstrap")  # the per-image detection states (issue 14)

from lt_core.data.loaders import load_detection_gt, load_detection_results  # noqa: E402
from lt_core.detection import evaluate_detections  # noqa: E402
from lt_core.detection.bootstrap import bootstrap_ci, paired_bootstrap  # noqa: E402
from lt_core.detection.fastjson import load_results_fast  # noqa: E402
from lt_core.errors import InputError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COCO = ROOT / "tests" / "data" / "coco_val2014_100"
COCO_GT = COCO / "instances_val2014_100.json.gz"
COCO_BBOX = COCO / "instances_val2014_fakebbox100_results.json.gz"
COCO_SEGM = COCO / "instances_val2014_fakesegm100_results.json.gz"
LVIS = ROOT / "tests" / "data" / "lvis_v0_5_val_100" / "lvis_val_100.json.gz"


@pytest.fixture(scope="module")
def client():
    from lt_core.distributed import dask_client

    with dask_client("local:2") as c:
        yield c


def assert_same_evaluation(a, b) -> None:
    """Headline (AP and AR), per-class columns, precision / recall tables and notes identical."""
    assert json.dumps(a.to_json(), sort_keys=True) == json.dumps(b.to_json(), sort_keys=True)
    assert a.headline == b.headline
    for k in b.columns:
        np.testing.assert_array_equal(np.asarray(a.columns[k]), np.asarray(b.columns[k]), err_msg=k)
    np.testing.assert_array_equal(a.acc.precision, b.acc.precision)
    np.testing.assert_array_equal(a.acc.recall, b.acc.recall)
    assert a.notes == b.notes


def assert_same_boot(a, b) -> None:
    assert json.dumps(a.to_json(), sort_keys=True) == json.dumps(b.to_json(), sort_keys=True)
    assert a.estimate.keys() == b.estimate.keys()
    for k in b.estimate:
        np.testing.assert_array_equal(np.float64(a.estimate[k]), np.float64(b.estimate[k]), err_msg=k)
    for k in b.replicates:
        np.testing.assert_array_equal(a.replicates[k], b.replicates[k], err_msg=k)
    pd.testing.assert_frame_equal(a.per_class, b.per_class, check_exact=True)


def lvis_generated_detections(gt_path, seed: int = 0, per_image: int = 60) -> list:
    """Seeded detections for an LVIS ground truth: jittered boxes of most annotations, false
    positives of random, negative and unlisted categories, two-decimal scores (many ties), shuffled."""
    gtd = json.loads(gzip.open(gt_path).read()) if str(gt_path).endswith(".gz") else json.loads(Path(gt_path).read_text())
    rng = np.random.default_rng(seed)
    cats = [c["id"] for c in gtd["categories"]]
    by_img: dict = {}
    for a in gtd["annotations"]:
        by_img.setdefault(a["image_id"], []).append(a)
    out = []
    for im in gtd["images"]:
        for a in by_img.get(im["id"], []):
            if rng.random() < 0.8:
                x, y, w, h = a["bbox"]
                j = rng.normal(0, 0.12, 4) * [w, h, w, h]
                out.append({"image_id": im["id"], "category_id": a["category_id"],
                            "bbox": [x + j[0], y + j[1], max(1.0, w + j[2]), max(1.0, h + j[3])],
                            "score": float(np.round(rng.random(), 2))})
        pool = cats + list(im.get("neg_category_ids", [])) * 5
        for _ in range(per_image):
            out.append({"image_id": im["id"], "category_id": int(rng.choice(pool)),
                        "bbox": [float(v) for v in rng.uniform(1, 200, 4)], "score": float(np.round(rng.random(), 2))})
    rng.shuffle(out)
    return out


# ------------------------------------------------------------------------------------------------
# COCO: the real val2014 subset with cocoapi's detector-style results, boxes and masks
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("iou_type,path", [("bbox", COCO_BBOX), ("segm", COCO_SEGM)])
def test_coco_subset_equal_single_process(client, tmp_path, iou_type, path):
    from lt_core.distributed.convert import convert_detections
    from lt_core.distributed.detection import evaluate_detections as on_dask

    gt = load_detection_gt(COCO_GT)
    res = (load_results_fast if iou_type == "bbox" else load_detection_results)(path, gt)
    ref = evaluate_detections(gt, res, iou_type=iou_type)
    ref_boot = bootstrap_ci(ref, 60, 4, "lvis")
    ds = convert_detections(path, tmp_path / "ds", gt=gt, n_partitions=5, chunk_bytes=50_000)
    assert ds.n_partitions == 5 and ds.n_rows == len(res)
    run = on_dask(client, gt, tmp_path / "ds", iou_type=iou_type, n_boot=60, seed=4, progress=False, n_blocks=6)
    assert_same_evaluation(run.ev, ref)
    assert_same_boot(run.boot, ref_boot)
    assert ref.headline["AP"] > 0.2  # a real evaluation, not an empty one
    # the full per-detection state brought back (the app's path): every array the single-process state has
    full = on_dask(client, gt, tmp_path / "ds", iou_type=iou_type, progress=False, gather_state=True)
    for f in ("score", "cat", "img", "rank", "matched", "ignored", "det_index", "match_ann", "iou", "gt_img", "gt_cat",
              "gt_n", "image_ids", "gt_count"):
        x, y = getattr(full.ev.state, f), getattr(ref.state, f)
        assert x.dtype == y.dtype, f
        np.testing.assert_array_equal(x, y, err_msg=f)


# ------------------------------------------------------------------------------------------------
# LVIS: the real v0.5 val subset with generated detections, and a generated LVIS-like set
# ------------------------------------------------------------------------------------------------
def test_lvis_val_subset_equal_single_process(client, tmp_path):
    from lt_core.distributed.detection import evaluate_detections as on_dask

    (tmp_path / "dets.json").write_text(json.dumps(lvis_generated_detections(LVIS, seed=0, per_image=350)))
    gt = load_detection_gt(LVIS)
    res = load_results_fast(tmp_path / "dets.json", gt)
    ref = evaluate_detections(gt, res)
    assert ref.params.style == "lvis" and any("maximum number" in n for n in ref.notes)  # the 300 limit bites
    ref_boot = bootstrap_ci(ref, 40, 1, "lvis")
    from lt_core.distributed.convert import convert_detections

    convert_detections(tmp_path / "dets.json", tmp_path / "ds", gt=gt, n_partitions=4, chunk_bytes=200_000)
    run = on_dask(client, gt, tmp_path / "ds", n_boot=40, seed=1, progress=False, n_blocks=7)
    assert_same_evaluation(run.ev, ref)
    assert_same_boot(run.boot, ref_boot)
    for k in ("APr", "APc", "APf", "AR@300"):
        assert k in run.ev.headline


def test_generated_lvis_like_equal_and_paired(client, tmp_path):
    from lt_core.data import make_lvis_like
    from lt_core.distributed.convert import convert_detections
    from lt_core.distributed.detection import evaluate_detections as on_dask

    g, dets = make_lvis_like(n_images=240, seed=3, dets_per_image=40)
    _, dets_b = make_lvis_like(n_images=240, seed=4, dets_per_image=40)
    (tmp_path / "gt.json").write_text(json.dumps(g))
    (tmp_path / "a.json").write_text(json.dumps(dets, indent=1))       # one layout ...
    (tmp_path / "b.json").write_text(json.dumps(dets_b, separators=(",", ":")))  # ... and another
    gt = load_detection_gt(tmp_path / "gt.json")
    ra, rb = load_results_fast(tmp_path / "a.json", gt), load_results_fast(tmp_path / "b.json", gt)
    ea, eb = evaluate_detections(gt, ra), evaluate_detections(gt, rb)
    ref_pair = paired_bootstrap(ea, eb, 50, 9, "lvis")
    for name in ("a", "b"):
        convert_detections(tmp_path / f"{name}.json", tmp_path / f"ds_{name}", gt=gt, n_partitions=3, chunk_bytes=64_000)
    da = on_dask(client, gt, tmp_path / "ds_a", n_boot=50, seed=9, progress=False)
    db = on_dask(client, gt, tmp_path / "ds_b", n_boot=50, seed=9, progress=False)
    assert_same_evaluation(da.ev, ea)
    assert_same_evaluation(db.ev, eb)
    got = paired_bootstrap(da.ev, db.ev, 50, 9, "lvis", replicates=(da.replicates, db.replicates))
    assert_same_boot(got, ref_pair)


# ------------------------------------------------------------------------------------------------
# the streamed conversion
# ------------------------------------------------------------------------------------------------
def test_convert_detections_any_layout_plain_parquet(tmp_path):
    """Pretty-printed, keys reordered, extra keys holding '},{' in strings, gzip: the partitions
    (read with plain pandas) hold exactly the records, each image in one partition."""
    from lt_core.distributed import image_partition
    from lt_core.distributed.convert import convert_detections

    recs = json.loads(gzip.open(COCO_BBOX).read())
    odd = [dict(reversed(list(r.items())), note="a},{b", extra={"x": [1, {"y": "}"}]}) for r in recs]
    with gzip.open(tmp_path / "odd.json.gz", "wt") as fh:
        json.dump(odd, fh, indent=2)
    ref = load_results_fast(COCO_BBOX)
    ds = convert_detections(tmp_path / "odd.json.gz", tmp_path / "ds", n_partitions=3, chunk_bytes=20_000)
    meta = json.loads((tmp_path / "ds" / "tailscope_dataset.json").read_text())
    df = pd.concat([pd.read_parquet(tmp_path / "ds" / p["file"]) for p in meta["partitions"]]).sort_values("det_index")
    np.testing.assert_array_equal(df["det_index"].to_numpy(), np.arange(len(recs)))
    np.testing.assert_array_equal(df["image_id"].to_numpy(), ref.image_id)
    np.testing.assert_array_equal(df["score"].to_numpy(), ref.score)
    np.testing.assert_array_equal(df[["x", "y", "w", "h"]].to_numpy(), ref.bbox)
    for i, p in enumerate(meta["partitions"]):
        part = pd.read_parquet(tmp_path / "ds" / p["file"])
        assert (image_partition(part["image_id"].to_numpy(), 3) == i).all()
    assert ds.n_rows == len(recs)


def test_convert_detections_bad_record_names_the_entry(tmp_path):
    from lt_core.cli import main
    from lt_core.distributed.convert import convert_detections

    recs = json.loads(gzip.open(COCO_BBOX).read())
    recs[321]["bbox"][2] = -3.0
    (tmp_path / "bad.json").write_text(json.dumps(recs))
    with pytest.raises(InputError, match="entry 321"):
        convert_detections(tmp_path / "bad.json", tmp_path / "ds", chunk_bytes=10_000)
    recs[321]["bbox"][2] = 3.0
    recs[500]["score"] = "high"
    (tmp_path / "bad2.json").write_text(json.dumps(recs))
    assert main(["convert", "detections", "--dt", str(tmp_path / "bad2.json"), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists() and not (tmp_path / "ds").exists()


# ------------------------------------------------------------------------------------------------
# damaged partitions, the CLI
# ------------------------------------------------------------------------------------------------
def test_damaged_detection_partition_names_file_and_field(client, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lt_core.distributed import PartitionError
    from lt_core.distributed.convert import convert_detections
    from lt_core.distributed.detection import evaluate_detections as on_dask

    gt = load_detection_gt(COCO_GT)
    ds = convert_detections(COCO_BBOX, tmp_path / "ds", gt=gt, n_partitions=3)
    bad = Path(ds.partitions[1].path)
    t = pq.read_table(bad)
    img = t.column("image_id").to_numpy().copy()
    img[0] = int(pq.read_table(ds.partitions[0].path).column("image_id")[0].as_py())  # an image of partition 0
    pq.write_table(t.set_column(t.schema.get_field_index("image_id"), "image_id", pa.array(img)), bad)
    with pytest.raises(PartitionError) as e:
        on_dask(client, gt, ds.root, progress=False)
    assert str(bad) in str(e.value) and "field 'image_id'" in str(e.value) and "another partition" in str(e.value)


@pytest.mark.slow
def test_cli_eval_det_dask_writes_the_same_json(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cli(*a, rc=0):
        r = subprocess.run([sys.executable, "-m", "lt_core", *map(str, a)], capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=600)
        assert r.returncode == rc, r.stderr
        return r

    from lt_core.data import make_lvis_like

    g, d1 = make_lvis_like(n_images=120, seed=5, dets_per_image=30)
    _, d2 = make_lvis_like(n_images=120, seed=6, dets_per_image=30)
    for n, o in (("gt.json", g), ("a.json", d1), ("b.json", d2)):
        (tmp_path / n).write_text(json.dumps(o))
    base = ["eval-det", "--gt", "gt.json", "--dt", "a.json", "--compare", "b.json", "--bootstrap", 40, "--seed", 2]
    cli(*base, "--out", "single.json")
    r = cli(*base, "--out", "dask.json", "--dask", "local:2")
    assert "eval-det:" in r.stderr and "partitions [" in r.stderr
    assert (tmp_path / "single.json").read_bytes() == (tmp_path / "dask.json").read_bytes()
    cli("convert", "detections", "--dt", "a.json", "--gt", "gt.json", "--partitions", 3, "--out", "ds_a")
    cli("eval-det", "--gt", "gt.json", "--dt", "ds_a", "--out", "dask2.json", "--dask", "local:2")
    cli("eval-det", "--gt", "gt.json", "--dt", "a.json", "--out", "single2.json")
    assert (tmp_path / "single2.json").read_bytes() == (tmp_path / "dask2.json").read_bytes()
    r = cli("eval-det", "--gt", "gt.json", "--dt", "ds_a", "--tide", "--dask", "local:1", rc=2)
    assert "--tide" in r.stderr and "Traceback" not in r.stderr
