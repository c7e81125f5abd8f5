"""lt_core.distributed: local:2 results equal the single-process ones exactly; faults; the layout.

One LocalCluster of two worker processes serves the module (started once, ~2 s).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from lt_core.data.loaders import load_detection_gt, load_labels, load_predictions, load_train_counts  # noqa: E402
from lt_core.data.schema import Labels  # noqa: E402
from lt_core.errors import InputError  # noqa: E402
from lt_core.metrics import classification_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
COUNTS = DATA / "imagenet_lt" / "ImageNet_LT_class_counts.csv"
TEST_LIST = DATA / "imagenet_lt" / "ImageNet_LT_test.txt.gz"
LVIS = DATA / "lvis_v0_5_val_100" / "lvis_val_100.json.gz"


@pytest.fixture(scope="module")
def client():
    from lt_core.distributed import dask_client

    with dask_client("local:2") as c:
        yield c


@pytest.fixture(scope="module")
def imagenet():
    classes = load_train_counts(COUNTS)
    labels, _ = load_labels(TEST_LIST, classes, split="test")
    return classes, labels


def _subset(labels: Labels, n: int, seed: int) -> Labels:
    idx = np.sort(np.random.default_rng(seed).choice(len(labels), n, replace=False))
    return Labels(labels.y[idx], "test", np.asarray(labels.sample_ids)[idx], labels.source)


def _scores(y: np.ndarray, c: int, seed: int, probs: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(len(y), c)).astype(np.float32)
    s[np.arange(len(y)), y] += rng.gamma(2.0, 1.2, size=len(y)).astype(np.float32)  # a model that is often right
    s[rng.random(len(y)) < 0.01] = 0.5  # tied rows: the tie rules matter
    if probs:
        e = np.exp(s - s.max(axis=1, keepdims=True))
        s = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return s


def assert_reports_equal(a, b) -> None:
    """Every number of two ClassificationReports is the same (NaN equals NaN)."""
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)
    assert a.overall.keys() == b.overall.keys()
    for k in a.overall:
        np.testing.assert_array_equal(np.float64(a.overall[k]), np.float64(b.overall[k]), err_msg=k)
    pd.testing.assert_frame_equal(a.bins, b.bins, check_exact=True)
    pd.testing.assert_frame_equal(a.per_class, b.per_class, check_exact=True)
    np.testing.assert_array_equal(a.state.confusion, b.state.confusion)
    assert a.extra.get("ci_notes", {}) == b.extra.get("ci_notes", {})


# ------------------------------------------------------------------------------------------------
# the single-process path never imports Dask
# ------------------------------------------------------------------------------------------------
def test_single_process_path_does_not_import_dask(tmp_path):
    code = f"""
import sys, numpy as np
sys.path.insert(0, {str(ROOT)!r})
import lt_core
from lt_core.cli import main
from lt_core.data.loaders import load_labels, load_train_counts
c = load_train_counts({str(COUNTS)!r})
l, _ = load_labels({str(TEST_LIST)!r}, c, split="test")
np.save({str(tmp_path / 's.npy')!r}, np.random.default_rng(0).integers(0, 1000, len(l)))
rc1 = main(["eval-cls", "--labels", {str(TEST_LIST)!r}, "--preds", {str(tmp_path / 's.npy')!r},
            "--train-counts", {str(COUNTS)!r}, "--bootstrap", "10"])
rc2 = main(["eval-det", "--gt", {str(DATA / 'coco_val2014_100' / 'instances_val2014_100.json.gz')!r},
            "--dt", {str(DATA / 'coco_val2014_100' / 'instances_val2014_fakebbox100_results.json.gz')!r}])
rc3 = main(["rebalance", "rfs", "--gt", {str(LVIS)!r}, "--out", {str(tmp_path / 'r.json')!r}])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
print("RC", rc1, rc2, rc3, "LOADED", loaded)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RC")]
    assert line, out.stdout[-2000:] + out.stderr[-2000:]
    assert line[0] == "RC 0 0 0 LOADED []"


def test_parse_dask_spec():
    from lt_core.distributed import parse_dask_spec

    assert parse_dask_spec("local:3").n_workers == 3
    assert parse_dask_spec("tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"
    for bad in ("local:0", "local:x", "10.0.0.5", "tcp://host", "http://h:1", "local:100000"):
        with pytest.raises(InputError):
            parse_dask_spec(bad)


# ------------------------------------------------------------------------------------------------
# classification: ImageNet-LT-shaped scores (the real test list, generated scores)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("probs", [False, True])
def test_imagenet_lt_scores_equal_single_process(client, imagenet, tmp_path, probs):
    from lt_core.distributed import convert_scores, evaluate_classification

    classes, labels = imagenet
    lab = _subset(labels, 3000, seed=1)
    S = _scores(lab.y, classes.n_classes, seed=2, probs=probs)
    np.save(tmp_path / "s.npy", S)
    preds = load_predictions(tmp_path / "s.npy", classes, "test", lab)
    assert preds.kind == ("probs" if probs else "logits")
    ref = classification_report(lab.y, None, classes, "imagenet-lt", scores=preds.scores, kind=preds.kind,
                                bootstrap=300, seed=11)
    ds = convert_scores(tmp_path / "s.npy", tmp_path / "ds", classes, lab, rows=700)  # 5 partitions
    assert ds.n_partitions == 5 and ds.score_kind == preds.kind
    rep = evaluate_classification(client, tmp_path / "ds", classes, "imagenet-lt", bootstrap=300, seed=11,
                                  progress=False)
    assert_reports_equal(rep, ref)
    # a .npy given directly is converted on the fly (labels stored with it)
    rep2 = evaluate_classification(client, tmp_path / "s.npy", classes, "imagenet-lt", lab, bootstrap=300, seed=11,
                                   progress=False)
    assert_reports_equal(rep2, ref)


def test_labels_from_client_aligned_by_id_and_subset(client, imagenet, tmp_path):
    """Scores in another order than the labels, with extra rows: aligned by sample id as the loader
    does, and logits / probabilities decided on the rows evaluated."""
    from lt_core.distributed import convert_scores, evaluate_classification

    classes, labels = imagenet
    lab = _subset(labels, 2000, seed=3)
    extra = _subset(labels, 400, seed=4)
    keep = ~np.isin(extra.sample_ids, lab.sample_ids)
    ids = np.concatenate([lab.sample_ids, extra.sample_ids[keep]])
    y_all = np.concatenate([lab.y, extra.y[keep]])
    S = _scores(y_all, classes.n_classes, seed=5, probs=True)
    S[len(lab.y):] *= 3.0  # the extra rows are not probabilities: kind over all rows would be "logits"
    perm = np.random.default_rng(6).permutation(len(ids))
    np.savez(tmp_path / "s.npz", scores=S[perm], ids=ids[perm].astype(str))
    preds = load_predictions(tmp_path / "s.npz", classes, "test", lab)
    assert preds.kind == "probs"
    ref = classification_report(lab.y, None, classes, "imagenet-lt", scores=preds.scores, kind=preds.kind,
                                bootstrap=100, seed=0)
    convert_scores(tmp_path / "s.npz", tmp_path / "ds", classes, None, rows=600)
    rep = evaluate_classification(client, tmp_path / "ds", classes, "imagenet-lt", lab, bootstrap=100, seed=0,
                                  progress=False)
    assert rep.extra["score_kind"] == "probs"
    assert_reports_equal(rep, ref)


def test_predicted_ids_full_imagenet_lt_test(client, imagenet, tmp_path):
    from lt_core.distributed import evaluate_classification

    classes, labels = imagenet
    rng = np.random.default_rng(8)
    pred = np.where(rng.random(len(labels)) < 0.6, labels.y, rng.integers(0, 1000, len(labels)))
    np.save(tmp_path / "p.npy", classes.ids[pred].astype(np.int64))
    preds = load_predictions(tmp_path / "p.npy", classes, "test", labels)
    ref = classification_report(labels.y, preds.labels, classes, "imagenet-lt", bootstrap=200, seed=1)
    rep = evaluate_classification(client, tmp_path / "p.npy", classes, "imagenet-lt", labels, bootstrap=200, seed=1,
                                  progress=False)
    assert_reports_equal(rep, ref)


def test_convert_streams_npz_and_is_plain_parquet(imagenet, tmp_path):
    """The partitions read back with plain pandas / pyarrow give the file's float32 scores, the
    labels and the ids; a compressed .npz is streamed (no whole-array read)."""
    import pyarrow.parquet as pq

    from lt_core.distributed import convert_scores
    from lt_core.distributed.layout import MANIFEST

    classes, labels = imagenet
    lab = _subset(labels, 1500, seed=9)
    S = _scores(lab.y, 1000, seed=10).astype(np.float64)
    np.savez_compressed(tmp_path / "s.npz", logits=S)
    ds = convert_scores(tmp_path / "s.npz", tmp_path / "ds", classes, lab, rows=400)
    meta = json.loads((tmp_path / "ds" / MANIFEST).read_text())
    assert [p["rows"] for p in meta["partitions"]] == [400, 400, 400, 300]
    frames = [pd.read_parquet(tmp_path / "ds" / p["file"]) for p in meta["partitions"]]
    df = pd.concat(frames, ignore_index=True)
    np.testing.assert_array_equal(df["row"].to_numpy(), np.arange(1500))
    np.testing.assert_array_equal(df["label"].to_numpy(), lab.y)
    assert df["sample_id"].tolist() == list(lab.sample_ids)
    np.testing.assert_array_equal(np.stack(df["scores"].to_numpy()), S.astype(np.float32))
    t = pq.read_table(tmp_path / "ds" / meta["partitions"][0]["file"])
    assert str(t.schema.field("scores").type) == "fixed_size_list<element: float>[1000]"
    assert ds.n_rows == 1500 and ds.score_kind == "logits"


def test_convert_refuses_bad_arrays(tmp_path):
    from lt_core.cli import main

    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    bad = np.ones((5, 3), np.float32)
    bad[3, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    for f in ("obj.npy", "nan.npy"):
        assert main(["convert", "scores", "--preds", str(tmp_path / f), "--out", str(tmp_path / f"o_{f}")]) == 2
        assert not (tmp_path / f"o_{f}").exists()


# ------------------------------------------------------------------------------------------------
# faults
# ------------------------------------------------------------------------------------------------
class _CrashOnce:
    """A worker plugin that kills its worker process (os._exit) when the chosen map task starts
    executing, the first time only (a marker file remembers); Dask must re-run the task elsewhere."""

    name = "tailscope-crash-once"

    def __init__(self, suffix: str, marker: str):
        self.suffix, self.marker = suffix, marker

    def setup(self, worker):
        self.worker = worker

    def transition(self, key, start, finish, **kwargs):
        k = key if isinstance(key, str) else str(key)
        if finish == "executing" and k.endswith(self.suffix) and "-map-" in k and not os.path.exists(self.marker):
            Path(self.marker).write_text(k)
            os._exit(1)


@pytest.mark.slow
def test_worker_killed_mid_run_result_still_exact(imagenet, tmp_path):
    import cloudpickle
    from distributed.diagnostics.plugin import WorkerPlugin

    from lt_core.distributed import convert_scores, dask_client, evaluate_classification

    classes, labels = imagenet
    lab = _subset(labels, 2400, seed=12)
    np.save(tmp_path / "s.npy", _scores(lab.y, 1000, seed=13))
    preds = load_predictions(tmp_path / "s.npy", classes, "test", lab)
    ref = classification_report(lab.y, None, classes, "imagenet-lt", scores=preds.scores, kind=preds.kind,
                                bootstrap=100, seed=2)
    convert_scores(tmp_path / "s.npy", tmp_path / "ds", classes, lab, rows=300)  # 8 partitions
    marker = tmp_path / "crashed"
    plugin_cls = type("CrashOnce", (_CrashOnce, WorkerPlugin), {})
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with dask_client("local:2") as c:  # its own cluster: a worker of it dies
            c.register_plugin(plugin_cls("-map-3", str(marker)))
            rep = evaluate_classification(c, tmp_path / "ds", classes, "imagenet-lt", bootstrap=100, seed=2,
                                          progress=False)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert marker.exists() and marker.read_text().endswith("-map-3")  # a worker really died
    assert_reports_equal(rep, ref)


def _corrupt_dataset(imagenet, tmp_path):
    from lt_core.distributed import convert_scores

    classes, labels = imagenet
    lab = _subset(labels, 900, seed=14)
    np.save(tmp_path / "s.npy", _scores(lab.y, 1000, seed=15))
    ds = convert_scores(tmp_path / "s.npy", tmp_path / "ds", classes, lab, rows=300)
    return classes, ds


def test_truncated_partition_names_the_file(client, imagenet, tmp_path):
    from lt_core.distributed import PartitionError, evaluate_classification

    classes, ds = _corrupt_dataset(imagenet, tmp_path)
    bad = Path(ds.partitions[1].path)
    raw = bad.read_bytes()
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(PartitionError) as e:
        evaluate_classification(client, ds.root, classes, "imagenet-lt", progress=False)
    assert str(bad) in str(e.value) and "Parquet" in str(e.value)


@pytest.mark.slow
def test_bad_field_in_partition_names_file_and_field(client, imagenet, tmp_path):
    """A partition whose labels are out of range (written by hand): the run stops with the file and
    the field; the CLI exits 2 with one line."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lt_core.cli import main
    from lt_core.distributed import PartitionError, evaluate_classification

    classes, ds = _corrupt_dataset(imagenet, tmp_path)
    bad = Path(ds.partitions[2].path)
    t = pq.read_table(bad)
    lab = t.column("label").to_numpy().copy()
    lab[7] = 5000
    pq.write_table(t.set_column(t.schema.get_field_index("label"), "label", pa.array(lab)), bad)
    with pytest.raises(PartitionError) as e:
        evaluate_classification(client, ds.root, classes, "imagenet-lt", progress=False)
    msg = str(e.value)
    assert str(bad) in msg and "field 'label'" in msg and "5000" in msg
    t2 = pq.read_table(Path(ds.partitions[0].path))
    sc = t2.column("scores").combine_chunks()
    vals = sc.values.to_numpy().copy()
    vals[1234] = np.nan
    pq.write_table(t2.set_column(t2.schema.get_field_index("scores"), "scores",
                                 pa.FixedSizeListArray.from_arrays(pa.array(vals), 1000)), ds.partitions[0].path)
    r = subprocess.run([sys.executable, "-m", "lt_core", "eval-cls", "--labels", str(ds.root), "--preds", str(ds.root),
                        "--train-counts", str(COUNTS), "--dask", "local:1"], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert r.returncode == 2, r.stderr
    err = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(err) == 1 and ("part-00000.parquet" in err[0] or "part-00002.parquet" in err[0]), r.stderr
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------------------
# re-balancing statistics
# ------------------------------------------------------------------------------------------------
def _lvis_like_gt(tmp_path, n_images=300, seed=0):
    from lt_core.data import make_lvis_like

    gt, _ = make_lvis_like(n_images=n_images, seed=seed, dets_per_image=1)
    p = tmp_path / "lvis_like.json"
    p.write_text(json.dumps(gt))
    return load_detection_gt(p)


@pytest.mark.parametrize("which", ["lvis_val_subset", "lvis_like"])
def test_repeat_factors_equal_single_process(client, tmp_path, which):
    from lt_core.distributed import repeat_factors as rfs_dask
    from lt_core.distributed.convert import convert_gt
    from lt_core.rebalance import repeat_factors

    gt = load_detection_gt(LVIS) if which == "lvis_val_subset" else _lvis_like_gt(tmp_path)
    convert_gt(gt, tmp_path / "gt", n_partitions=4)
    for t, extra in ((0.001, {}), (0.03, {}), (0.01, {"frequency": "image_count", "n_train_images": 5000})):
        ref = repeat_factors(gt, t, **extra)
        for src in (gt, tmp_path / "gt"):
            got = rfs_dask(client, src, t, progress=False, **extra)
            assert json.dumps(got.to_json_dict()) == json.dumps(ref.to_json_dict())
            np.testing.assert_array_equal(got.image_factors, ref.image_factors)
    assert (ref.category_factors > 1).any() or which == "lvis_val_subset"


def test_class_counts_and_weights_equal(client, imagenet, tmp_path):
    from lt_core.distributed import class_counts
    from lt_core.distributed.convert import convert_labels

    classes, labels = imagenet
    convert_labels(labels, classes, tmp_path / "lab", rows=7000)
    np.testing.assert_array_equal(class_counts(client, tmp_path / "lab", progress=False), labels.counts(1000))
    np.testing.assert_array_equal(class_counts(client, labels, 1000, progress=False), labels.counts(1000))


@pytest.mark.slow
def test_cli_commands_equal_single_process(tmp_path):
    """eval-cls / rebalance weights / rebalance rfs with --dask local:2 write the same JSON (one cluster
    per command, as a user runs them); the progress line goes to stderr."""
    classes = load_train_counts(COUNTS)
    labels, _ = load_labels(TEST_LIST, classes, split="test")
    lab = _subset(labels, 1200, seed=16)
    np.save(tmp_path / "s.npy", _scores(lab.y, 1000, seed=17))
    pd.DataFrame({"id": lab.sample_ids, "label": lab.y}).to_csv(tmp_path / "lab.csv", index=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cli(*a):
        r = subprocess.run([sys.executable, "-m", "lt_core", *map(str, a)], capture_output=True, text=True, cwd=tmp_path,
                           env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        return r

    base = ["eval-cls", "--labels", "lab.csv", "--preds", "s.npy", "--train-counts", COUNTS, "--bootstrap", "50"]
    cli(*base, "--out", "single.json")
    r = cli(*base, "--out", "dask.json", "--dask", "local:2")
    assert "partitions [" in r.stderr and "dask local:2: 2 worker(s)" in r.stderr
    assert (tmp_path / "single.json").read_bytes() == (tmp_path / "dask.json").read_bytes()
    cli("convert", "scores", "--preds", "s.npy", "--labels", "lab.csv", "--train-counts", COUNTS,
        "--rows-per-partition", 250, "--out", "ds")
    cli("eval-cls", "--labels", "ds", "--preds", "ds", "--train-counts", COUNTS, "--bootstrap", "50",
        "--out", "dask2.json", "--dask", "local:2")
    assert (tmp_path / "single.json").read_bytes() == (tmp_path / "dask2.json").read_bytes()
    cli("rebalance", "rfs", "--gt", LVIS, "--threshold", "0.01", "--out", "r0.json")
    cli("convert", "gt", "--gt", LVIS, "--partitions", 3, "--out", "gt")
    cli("rebalance", "rfs", "--gt", "gt", "--threshold", "0.01", "--out", "r1.json", "--dask", "local:2")
    assert (tmp_path / "r0.json").read_bytes() == (tmp_path / "r1.json").read_bytes()
    cli("rebalance", "weights", "--train-labels", "lab.csv", "--out", "w0.json")
    cli("convert", "labels", "--labels", "lab.csv", "--out", "labds")
    cli("rebalance", "weights", "--train-labels", "labds", "--out", "w1.json", "--dask", "local:2")
    assert (tmp_path / "w0.json").read_bytes() == (tmp_path / "w1.json").read_bytes()


# ------------------------------------------------------------------------------------------------
# multi-label: GoEmotions (every test row of the real data set, the demo's real one-vs-rest model)
# ------------------------------------------------------------------------------------------------
def test_goemotions_multilabel_equal_single_process(client, tmp_path):
    from lt_core.data import load_multilabel_demo
    from lt_core.distributed.convert import convert_scores
    from lt_core.distributed.multilabel import evaluate_multilabel
    from lt_core.metrics import multilabel_report

    ds = load_multilabel_demo()
    lab = ds.labels["test"]
    P = ds.runs["one-vs-rest"].preds["test"].label_probabilities().astype(np.float32)
    P[:40] = np.round(P[:40], 2)  # ties across partitions
    np.save(tmp_path / "p.npy", P)
    Z = np.log(np.clip(P, 1e-6, 1 - 1e-6)) - np.log1p(-np.clip(P, 1e-6, 1 - 1e-6))
    np.save(tmp_path / "z.npy", Z.astype(np.float32))
    for f, kind in (("p.npy", "probs"), ("z.npy", "logits")):
        S = np.load(tmp_path / f)
        for scheme, thr in (("quantile:3", 0.5), ("imagenet-lt", 0.3)):
            ref = multilabel_report(lab, S, ds.classes, scheme, kind=kind, threshold=thr)
            out = tmp_path / f"ds_{f}_{scheme.replace(':', '')}"
            convert_scores(tmp_path / f, out, ds.classes, lab, rows=700)  # 8 partitions
            got = evaluate_multilabel(client, out, ds.classes, scheme, threshold=thr, progress=False)
            assert got.extra["kind"] == kind
            assert json.dumps(got.to_dict(), sort_keys=True) == json.dumps(ref.to_dict(), sort_keys=True)
            for k in ref.overall:
                np.testing.assert_array_equal(np.float64(got.overall[k]), np.float64(ref.overall[k]), err_msg=k)
            pd.testing.assert_frame_equal(got.bins, ref.bins, check_exact=True)
            pd.testing.assert_frame_equal(got.per_class, ref.per_class, check_exact=True)
    with pytest.raises(InputError, match="bootstrap"):
        evaluate_multilabel(client, out, ds.classes, "quantile:3", bootstrap=10, progress=False)
