"""Multi-label targets from the files users have: indicator matrices, label lists, list columns, the real
GoEmotions TSVs (every row), COCO / LVIS ground truth as image-level labels; a single-label load never
coerces them silently (it stops with the count and the choices)."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from lt_core.data import (ClassTable, MultiLabelRowsError, MultiLabels, build_classification_dataset,
                          load_label_splits, load_labels, load_multilabel_demo, single_label_dataset)
from lt_core.data.multilabel import as_multilabels, to_single_label
from lt_core.errors import InputError

GO = "goemotions"


def _go_rows(data_dir, split):
    with gzip.open(data_dir / GO / f"{split}.tsv.gz", "rt", encoding="utf-8") as fh:
        return [ln.rstrip("\n").split("\t") for ln in fh]


# ---------------------------------------------------------------- GoEmotions, every row
def test_goemotions_tsv_every_row_real(data_dir):
    rows = _go_rows(data_dir, "train")
    names = (data_dir / GO / "emotions.txt").read_text().split("\n")
    classes = ClassTable(np.arange(28), names, np.zeros(28, np.int64))
    ml, cl = load_labels(data_dir / GO / "train.tsv.gz", classes, multi_label="multi")
    assert isinstance(ml, MultiLabels) and len(ml) == len(rows) == 1200
    want = [sorted({int(t) for t in r[1].split(",")}) for r in rows]
    assert [x.tolist() for x in ml.label_lists()] == want          # every label of every row
    assert ml.sample_ids.tolist() == [r[2] for r in rows]
    assert ml.n_multi == sum(len(w) > 1 for w in want) == 207
    dense = ml.dense()
    assert dense.shape == (1200, 28) and dense.sum() == sum(len(w) for w in want)


def test_goemotions_single_label_load_stops_with_the_choices(data_dir):
    p = data_dir / GO / "train.tsv.gz"
    with pytest.raises(MultiLabelRowsError) as e:
        load_labels(p)
    assert e.value.n_multi == 207 and e.value.n_rows == 1200
    msg = str(e.value)
    assert "207 of 1,200 rows carry several labels" in msg and "first" in msg and "drop" in msg and str(p) in msg
    first, _ = load_labels(p, multi_label="first")
    dropped, _ = load_labels(p, multi_label="drop")
    assert len(first) == 1200 and len(dropped) == 1200 - 207
    assert "207 of 1,200 rows carried several labels: the first label was kept" in first.notes
    assert "207 of 1,200 rows carried several labels: dropped" in dropped.notes
    rows = _go_rows(data_dir, "train")
    assert first.y.tolist() == [int(r[1].split(",")[0]) for r in rows]   # the first label as written


# ---------------------------------------------------------------- label lists in a column
@pytest.mark.parametrize("sep", [",", "|", ";"])
def test_label_column_with_several_labels(tmp_path, sep):
    p = tmp_path / "labels.csv"
    pd.DataFrame({"id": ["a", "b", "c", "d"], "label": [f"cat{sep}dog", "dog", f"bird{sep}cat{sep}dog", "bird"]}) \
        .to_csv(p, index=False)
    with pytest.raises(MultiLabelRowsError, match="2 of 4 rows"):
        load_labels(p)
    ml, cl = load_labels(p, multi_label="auto")
    assert cl.names.tolist() == ["bird", "cat", "dog"]
    assert ml.dense().astype(int).tolist() == [[0, 1, 1], [0, 0, 1], [1, 1, 1], [1, 0, 0]]
    assert cl.train_count.tolist() == [2, 2, 3]   # train positives


def test_integer_ids_3_27_are_two_labels_not_a_class_named_3_27(tmp_path):
    """The issue's case: today a CSV with "3,27" silently became a label-combination class."""
    p = tmp_path / "y.csv"
    p.write_text('id,label\n1,"3,27"\n2,5\n3,27\n')
    with pytest.raises(MultiLabelRowsError):
        load_labels(p)
    ml, cl = load_labels(p, multi_label="auto")
    assert cl.n_classes == 28 and ml.label_lists()[0].tolist() == [3, 27]


def test_class_names_that_contain_the_separator_stay_one_label(tmp_path):
    classes = ClassTable(np.arange(2), ["tench, Tinca tinca", "goldfish"], [5, 5])
    p = tmp_path / "y.csv"
    pd.DataFrame({"label": ["tench, Tinca tinca", "goldfish"]}).to_csv(p, index=False)
    lab, _ = load_labels(p, classes)
    assert lab.y.tolist() == [0, 1]


def test_parquet_list_column_with_split_and_empty_rows(tmp_path):
    p = tmp_path / "l.parquet"
    pd.DataFrame({"id": ["a", "b", "c", "d"], "labels": [["x", "y"], ["y"], [], ["x"]],
                  "split": ["train", "train", "test", "test"]}).to_parquet(p)
    out, cl = load_label_splits(p, multi_label="auto")
    assert set(out) == {"train", "test"} and cl.train_count.tolist() == [1, 2]
    assert out["test"].dense().astype(int).tolist() == [[0, 0], [1, 0]]
    assert "1 samples carry no label" in out["test"].notes


# ---------------------------------------------------------------- indicator matrices
def test_indicator_npy_npz_wide_csv_and_parquet_agree(tmp_path):
    rng = np.random.default_rng(0)
    Y = rng.random((40, 5)) < 0.3
    Y[0] = [1, 1, 0, 0, 0]
    np.save(tmp_path / "y.npy", Y.astype(np.uint8))
    np.savez(tmp_path / "y.npz", Y=Y.astype(np.float32), ids=np.array([f"s{i}" for i in range(40)]))
    names = ["a", "b", "c", "d", "e"]
    df = pd.DataFrame(Y.astype(int), columns=names)
    df.insert(0, "id", [f"s{i}" for i in range(40)])
    df.to_csv(tmp_path / "y.csv", index=False)
    df.to_parquet(tmp_path / "y.parquet")
    for f in ("y.npy", "y.npz", "y.csv", "y.parquet"):
        ml, cl = load_labels(tmp_path / f, multi_label="auto")
        assert isinstance(ml, MultiLabels) and np.array_equal(ml.dense(), Y), f
    assert load_labels(tmp_path / "y.npz", multi_label="auto")[0].sample_ids[3] == "s3"
    with pytest.raises(MultiLabelRowsError):
        load_labels(tmp_path / "y.npy")
    # columns in another order than the class table: matched by name
    classes = ClassTable(np.arange(5), names, np.ones(5, np.int64))
    df[["id", "e", "a", "d", "b", "c"]].to_csv(tmp_path / "shuffled.csv", index=False)
    ml, _ = load_labels(tmp_path / "shuffled.csv", classes, multi_label="multi")
    assert np.array_equal(ml.dense(), Y)


def test_indicator_with_scores_instead_of_labels_is_refused(tmp_path):
    np.save(tmp_path / "s.npy", np.random.default_rng(0).random((5, 3)).astype(np.float32))
    with pytest.raises(InputError, match="0/1"):
        load_labels(tmp_path / "s.npy", multi_label="auto")


def test_one_hot_matrix_is_single_label_when_asked(tmp_path):
    np.save(tmp_path / "y.npy", np.eye(4, dtype=np.uint8)[[0, 2, 3, 1]])
    lab, cl = load_labels(tmp_path / "y.npy")
    assert lab.y.tolist() == [0, 2, 3, 1]


# ---------------------------------------------------------------- COCO / LVIS as image-level labels
def test_coco_gt_as_image_level_labels(data_dir):
    p = data_dir / "coco_val2014_100" / "instances_val2014_100.json.gz"
    ml, cl = load_labels(p, multi_label="multi")
    gt = json.loads(gzip.open(p).read())
    want = {}
    for a in gt["annotations"]:
        want.setdefault(a["image_id"], set()).add(a["category_id"])
    ids = [im["id"] for im in gt["images"]]
    got = [set(cl.ids[x].tolist()) for x in ml.label_lists()]
    assert got == [want.get(i, set()) for i in ids]
    assert cl.n_classes == len(gt["categories"]) and ml.sample_ids.tolist() == [str(i) for i in ids]
    with pytest.raises(MultiLabelRowsError, match="image"):
        load_labels(p)


def test_lvis_gt_image_labels_say_federated(data_dir):
    ml, cl = load_labels(data_dir / "lvis_v0_5_val_100" / "lvis_val_100.json.gz", multi_label="multi")
    assert len(ml) == 100 and cl.n_classes == 1230
    assert any("federated" in n for n in ml.notes)


# ---------------------------------------------------------------- datasets
def test_build_multilabel_dataset_from_user_files(tmp_path, data_dir):
    names = data_dir / GO / "emotions.txt"
    rng = np.random.default_rng(0)
    np.save(tmp_path / "val.npy", rng.random((300, 28)).astype(np.float32))
    with pytest.raises(MultiLabelRowsError):
        build_classification_dataset(train_labels=data_dir / GO / "train.tsv.gz", class_names=names)
    ds = build_classification_dataset(train_labels=data_dir / GO / "train.tsv.gz",
                                      val_labels=data_dir / GO / "dev.tsv.gz", test_labels=data_dir / GO / "test.tsv.gz",
                                      runs={"m": {"val": tmp_path / "val.npy"}}, class_names=names, multi_label="auto")
    assert ds.multi_label and ds.label_kind == "multi-label"
    assert all(isinstance(l, MultiLabels) for l in ds.labels.values())
    assert ds.classes.names[27] == "neutral"
    assert ds.classes.train_count.tolist() == ds.labels["train"].dense().sum(0).tolist()   # bins by train positives
    assert ds.runs["m"].preds["val"].kind == "probs"   # scores in [0, 1]: independent per-class probabilities
    assert ds.summary("quantile:3")["multi_label"] is True


def test_multilabels_single_label_analysis_stops_with_a_message():
    ml = MultiLabels.from_dense(np.array([[1, 1, 0], [0, 1, 0], [0, 0, 0]], bool), "test", source="t.csv")
    with pytest.raises(InputError, match="1 of 3 samples carry several labels"):
        ml.y   # noqa: B018  (what single-label code would read)


def test_single_label_view_of_the_demo_is_counted():
    ds = load_multilabel_demo()
    sl = single_label_dataset(ds, "drop")
    assert not sl.multi_label and len(sl.labels["train"]) == 36308 and len(sl.features["train"].X) == 36308
    assert "7,102 of 43,410 samples carried several labels: dropped" in sl.labels["train"].notes
    assert sl.runs["one-vs-rest"].preds["test"].scores.shape == (4590, 28)
    assert sl.classes.train_count[27] == 12823   # neutral, single-label rows


def test_multilabels_take_rows_and_conversions():
    rng = np.random.default_rng(1)
    Y = rng.random((50, 7)) < 0.2
    ml = MultiLabels.from_dense(Y, "train", np.array([str(i) for i in range(50)], dtype=object))
    sel = np.array([5, 3, 3, 49])
    assert np.array_equal(ml.take(sel).dense(), Y[sel])
    assert np.array_equal(ml.dense_rows(10, 20), Y[10:20])
    ml2 = MultiLabels(ml.indptr, ml.indices, 7, "train")   # without the cached dense matrix
    assert np.array_equal(ml2.take(sel).dense(), Y[sel]) and np.array_equal(ml2.dense_rows(3, 9), Y[3:9])
    assert ml.counts().tolist() == Y.sum(0).tolist()
    assert ml.cardinality == pytest.approx(Y.sum() / 50) and ml.density == pytest.approx(Y.sum() / 350)
    lab, keep = to_single_label(ml, "drop")
    assert keep.tolist() == (Y.sum(1) == 1).tolist() and lab.y.tolist() == Y[keep].argmax(1).tolist()
    assert np.array_equal(as_multilabels(lab, 7).dense(), Y[keep])
