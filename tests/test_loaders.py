"""Loaders: every format on real / generated files, and bad inputs that must give clear errors."""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lt_core.data import (build_classification_dataset, load_class_names, load_classifier, load_detection_gt,
                          load_detection_results, load_features, load_label_splits, load_labels, load_predictions,
                          load_train_counts)
from lt_core.data.schema import ClassTable
from lt_core.errors import InputError


def _classes(c=4, names=None):
    return ClassTable(np.arange(c), names or [f"c{i}" for i in range(c)], np.arange(c) * 10 + 1)


# ------------------------------------------------------------------ good inputs, every format
def test_imagenet_lt_text_list_real(data_dir):
    counts = load_train_counts(data_dir / "imagenet_lt/ImageNet_LT_class_counts.csv")
    assert counts.n_classes == 1000 and counts.train_count.sum() == 115846
    assert counts.train_count.max() == 1280 and counts.train_count.min() == 5
    lab, classes = load_labels(data_dir / "imagenet_lt/ImageNet_LT_test.txt.gz", counts)
    assert lab.split == "test" and len(lab) == 50000
    assert (lab.counts(1000) == 50).all()
    assert lab.sample_ids[0] == "val/n01440764/ILSVRC2012_val_00029930.JPEG" and lab.y[0] == 0


def test_places_lt_train_list_counts_match_published_counts(data_dir):
    counts = load_train_counts(data_dir / "places_lt/Places_LT_class_counts.csv")
    lab, classes = load_labels(data_dir / "places_lt/Places_LT_train.txt.gz")
    assert len(lab) == 62500
    assert (classes.train_count == counts.train_count).all()
    assert counts.imbalance_ratio == 996.0


def test_csv_with_names_ids_and_split(tmp_path):
    df = pd.DataFrame({"id": [f"s{i}" for i in range(9)], "label": ["cat", "dog", "cat", "eel", "cat", "dog",
                                                                   "cat", "dog", "eel"],
                       "split": ["train"] * 5 + ["val", "val", "test", "test"]})
    p = tmp_path / "labels.csv"
    df.to_csv(p, index=False)
    out, classes = load_label_splits(p)
    assert list(out) == ["train", "val", "test"]
    assert list(classes.names) == ["cat", "dog", "eel"]
    assert classes.train_count.tolist() == [3, 1, 1]  # counted from the train rows
    assert out["test"].sample_ids.tolist() == ["s7", "s8"] and out["test"].y.tolist() == [1, 2]
    with pytest.raises(InputError, match="several splits"):
        load_labels(p)
    lab, _ = load_labels(p, split="val")
    assert lab.y.tolist() == [1, 0]


def test_parquet_labels_and_integer_ids(tmp_path):
    p = tmp_path / "l.parquet"
    pd.DataFrame({"class_id": [0, 2, 2, 1]}).to_parquet(p)
    lab, classes = load_labels(p, split="train")
    assert classes.n_classes == 3 and lab.y.tolist() == [0, 2, 2, 1]


def test_image_folder_tree_counts_only(tmp_path):
    for cls, n in (("ant", 3), ("bee", 1)):
        d = tmp_path / "imgs" / cls
        d.mkdir(parents=True)
        for i in range(n):
            (d / f"{i}.jpg").write_bytes(b"not really a jpeg: never read")
    (tmp_path / "imgs" / "ant" / ".DS_Store").write_bytes(b"x")
    out, classes = load_label_splits(tmp_path / "imgs")
    assert classes.names.tolist() == ["ant", "bee"] and classes.train_count.tolist() == [3, 1]


def test_goemotions_tsv_multi_label_rows_are_never_dropped_silently(tmp_path):
    from lt_core.data.multilabel import MultiLabelRowsError

    p = tmp_path / "train.tsv"
    p.write_text("hello there\t27\tid1\nso sad\t25,9\tid2\nthanks!\t15\tid3\n")
    with pytest.raises(MultiLabelRowsError, match="1 of 3 rows carry several labels"):
        load_labels(p)  # a single-label load stops with the count and the choices
    lab, classes = load_labels(p, multi_label="drop")  # the old behaviour, now asked for and counted
    assert len(lab) == 2 and lab.sample_ids.tolist() == ["id1", "id3"] and "dropped" in lab.notes[0]
    ml, _ = load_labels(p, multi_label="multi")  # every row
    assert len(ml) == 3 and ml.n_multi == 1


def test_npy_npz_csv_parquet_predictions_agree(tmp_path):
    rng = np.random.default_rng(0)
    s = rng.normal(size=(6, 4)).astype(np.float32)
    classes = _classes()
    np.save(tmp_path / "s.npy", s)
    np.savez(tmp_path / "s.npz", logits=s)
    pd.DataFrame(s, columns=[f"c{i}" for i in range(4)]).to_csv(tmp_path / "s.csv", index=False)
    pd.DataFrame(s, columns=[f"score_{i}" for i in range(4)]).to_parquet(tmp_path / "s.parquet")
    for f in ("s.npy", "s.npz", "s.csv", "s.parquet"):
        p = load_predictions(tmp_path / f, classes)
        np.testing.assert_allclose(p.scores, s, rtol=1e-6)
        assert p.kind == "logits"
    probs = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    np.save(tmp_path / "p.npy", probs)
    assert load_predictions(tmp_path / "p.npy", classes).kind == "probs"
    # hard predictions: ids in .npy, names in a CSV column
    np.save(tmp_path / "h.npy", np.array([0, 3, 2]))
    assert load_predictions(tmp_path / "h.npy", classes).labels.tolist() == [0, 3, 2]
    pd.DataFrame({"pred": ["c1", "c0"]}).to_csv(tmp_path / "h.csv", index=False)
    assert load_predictions(tmp_path / "h.csv", classes).labels.tolist() == [1, 0]


def test_predictions_aligned_by_sample_id(tmp_path):
    classes = _classes(3, ["a", "b", "c"])
    lab_path = tmp_path / "test.csv"
    pd.DataFrame({"id": ["x", "y", "z"], "label": ["a", "b", "c"]}).to_csv(lab_path, index=False)
    lab, _ = load_labels(lab_path, classes, split="test")
    pd.DataFrame({"id": ["z", "x", "y"], "a": [0, 9, 0], "b": [0, 0, 9], "c": [9, 0, 0]}).to_csv(
        tmp_path / "p.csv", index=False)
    p = load_predictions(tmp_path / "p.csv", classes, "test", lab)
    assert p.labels.tolist() == [0, 1, 2]


def test_features_and_classifier_formats(tmp_path):
    import torch
    from safetensors.numpy import save_file

    X = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    np.save(tmp_path / "f.npy", X)
    np.savez(tmp_path / "f.npz", features=X)
    pd.DataFrame(X, columns=["a", "b", "c"]).to_parquet(tmp_path / "f.parquet")
    for f in ("f.npy", "f.npz", "f.parquet"):
        np.testing.assert_array_equal(load_features(tmp_path / f).X, X)
    W, b = np.ones((4, 3), np.float32), np.arange(4, dtype=np.float32)
    torch.save({"fc.weight": torch.tensor(W), "fc.bias": torch.tensor(b)}, tmp_path / "h.pt")
    save_file({"weight": W, "bias": b}, str(tmp_path / "h.safetensors"))
    np.savez(tmp_path / "h.npz", W=W, b=b)
    for f in ("h.pt", "h.safetensors", "h.npz"):
        c = load_classifier(tmp_path / f)
        np.testing.assert_array_equal(c.W, W)
        np.testing.assert_array_equal(c.b, b)


def test_coco_and_lvis_ground_truth_real(data_dir):
    coco = load_detection_gt(data_dir / "coco_val2014_100/instances_val2014_100.json.gz")
    assert coco.n_images == 100 and len(coco.ann_id) == 839 and int(coco.ann_iscrowd.sum()) == 9
    assert not coco.is_lvis and coco.categories.n_classes == 80
    lvis = load_detection_gt(data_dir / "lvis_v0_5_val_100/lvis_val_100.json.gz")
    assert lvis.is_lvis and lvis.categories.n_classes == 1230 and len(lvis.neg_category_ids) == 100
    res = load_detection_results(data_dir / "coco_val2014_100/instances_val2014_fakesegm100_results.json.gz", coco)
    assert len(res) == 734 and res.segmentation is not None and (res.bbox[:, 2] > 0).all()
    rb = load_detection_results(data_dir / "coco_val2014_100/instances_val2014_fakebbox100_results.json.gz", coco)
    assert len(rb) == 734 and rb.segmentation is None


def test_build_dataset_imagenet_lt_shape(data_dir, tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "scores.npy", rng.normal(size=(50000, 1000)).astype(np.float32))
    ds = build_classification_dataset(train_counts=data_dir / "imagenet_lt/ImageNet_LT_class_counts.csv",
                                      test_labels=data_dir / "imagenet_lt/ImageNet_LT_test.txt.gz",
                                      runs={"m": {"test": tmp_path / "scores.npy"}})
    s = ds.summary("imagenet-lt")
    assert s["bins"] == {"many": 385, "medium": 479, "few": 136} and s["imbalance_ratio"] == 256.0


# ------------------------------------------------------------------ bad inputs: clear messages
def _write(p: Path, data: bytes | str) -> Path:
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


GT = {"images": [{"id": 1, "height": 10, "width": 10}, {"id": 2, "height": 10, "width": 10}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3], "area": 9, "iscrowd": 0}],
      "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}


def _gt(tmp_path, **change):
    d = json.loads(json.dumps(GT))
    for k, v in change.items():
        d[k] = v
    return _write(tmp_path / "gt.json", json.dumps(d))


BAD = {
    # name: (builder(tmp_path) -> callable that must raise, regex the message must contain)
    "empty file": (lambda t: lambda: load_labels(_write(t / "e.csv", b"")), "empty"),
    "truncated json": (lambda t: lambda: load_detection_gt(_write(t / "g.json", json.dumps(GT)[:-20])),
                       "invalid JSON"),
    "truncated gzip": (lambda t: lambda: load_detection_gt(_write(t / "g.json.gz", gzip.compress(b"{}" * 99)[:-9])),
                       "gzip"),
    "gz name, plain content": (lambda t: lambda: load_detection_gt(_write(t / "g.json.gz", json.dumps(GT))),
                               "not gzip"),
    "missing key": (lambda t: lambda: load_detection_gt(_write(t / "g.json", json.dumps({"images": []}))),
                    "missing key 'annotations'"),
    "annotation without bbox": (lambda t: lambda: load_detection_gt(
        _gt(t, annotations=[{"id": 1, "image_id": 1, "category_id": 1}])), "has no 'bbox'"),
    "unknown category in results": (lambda t: lambda: load_detection_results(_write(t / "r.json", json.dumps(
        [{"image_id": 1, "category_id": 7, "bbox": [0, 0, 2, 2], "score": 0.5}])), load_detection_gt(_gt(t))),
        "category ids not in the ground truth"),
    "unknown image in results": (lambda t: lambda: load_detection_results(_write(t / "r.json", json.dumps(
        [{"image_id": 99, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.5}])), load_detection_gt(_gt(t))),
        "image ids not in the ground truth"),
    "NaN score in results": (lambda t: lambda: load_detection_results(_write(t / "r.json",
        '[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": NaN}]'), None), "NaN|invalid JSON"),
    "negative box": (lambda t: lambda: load_detection_gt(_gt(t, annotations=[
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, -3, 3]}])), "zero or negative width"),
    "zero-size box in results": (lambda t: lambda: load_detection_results(_write(t / "r.json", json.dumps(
        [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 0, 2], "score": 0.5}])), None), "zero or negative"),
    "duplicate image ids": (lambda t: lambda: load_detection_gt(_gt(t, images=[{"id": 1}, {"id": 1}])),
                            "duplicate image ids"),
    "duplicate annotation ids": (lambda t: lambda: load_detection_gt(_gt(t, annotations=[
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3]}] * 2)), "duplicate annotation ids"),
    "annotation on unknown image": (lambda t: lambda: load_detection_gt(_gt(t, annotations=[
        {"id": 1, "image_id": 5, "category_id": 1, "bbox": [1, 1, 3, 3]}])), "unknown image ids"),
    "NaN scores in npy": (lambda t: lambda: load_predictions(_write_npy(t / "s.npy", np.array(
        [[0.1, np.nan, 0, 0]], np.float32)), _classes()), "NaN"),
    "inf features": (lambda t: lambda: load_features(_write_npy(t / "f.npy", np.array([[1.0, np.inf]]))), "non-finite"),
    "length mismatch labels vs scores": (lambda t: lambda: load_predictions(
        _write_npy(t / "s.npy", np.zeros((3, 4), np.float32)), _classes(), "test",
        load_labels(_write(t / "l.csv", "label\n0\n1\n"), _classes(), split="test")[0]), "3 predictions but 2 labels"),
    "class-count mismatch": (lambda t: lambda: load_predictions(_write_npy(t / "s.npy", np.zeros((3, 5), np.float32)),
                                                                _classes()), "5 score columns but the dataset has 4"),
    "unknown class id in labels": (lambda t: lambda: load_labels(_write(t / "l.csv", "label\n0\n9\n"), _classes()),
                                   "unknown class ids \\[9\\]"),
    "unknown class name": (lambda t: lambda: load_labels(_write(t / "l.csv", "label\nc0\nzebra\n"), _classes()),
                           "unknown class names \\['zebra'\\]"),
    "duplicate sample ids": (lambda t: lambda: load_labels(_write(t / "l.csv", "id,label\na,0\na,1\n")),
                             "duplicate sample ids"),
    "wrong dtype (string array)": (lambda t: lambda: load_predictions(
        _write_npy(t / "s.npy", np.array(["a", "b"])), _classes()), "numeric"),
    "npy extension, csv content": (lambda t: lambda: load_predictions(_write(t / "s.npy", "a,b\n1,2\n"), _classes()),
                                   "content looks like text"),
    "parquet extension, csv content": (lambda t: lambda: load_labels(_write(t / "l.parquet", "label\n0\n")),
                                       "name says Parquet"),
    "binary file as csv": (lambda t: lambda: load_labels(_write(t / "l.csv", _npy_bytes())), "looks like npy"),
    "text list line without label": (lambda t: lambda: load_labels(_write(t / "l.txt", "a.jpg 1\nb.jpg\n")),
                                     "line 2"),
    "no label column": (lambda t: lambda: load_labels(_write(t / "l.csv", "foo,bar\n1,2\n")), "no label column"),
    "negative counts": (lambda t: lambda: load_train_counts(_write(t / "c.csv", "class_id,count\n0,5\n1,-1\n")),
                        ">= 0"),
    "pickled object array refused": (lambda t: lambda: load_predictions(
        _write_npy(t / "s.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True), _classes()), "pickle"),
    "unsafe torch pickle refused": (lambda t: lambda: load_classifier(_torch_pickle(t / "evil.pt")), "weights-only"),
    "results is not a list": (lambda t: lambda: load_detection_results(_write(t / "r.json", '{"a": 1}'), None),
                              "expected COCO results"),
    "empty results list": (lambda t: lambda: load_detection_results(_write(t / "r.json", "[]"), None), "empty"),
    "header only table": (lambda t: lambda: load_labels(_write(t / "l.csv", "label\n")), "no rows"),
    "classifier rows != classes": (lambda t: lambda: build_classification_dataset(
        train_labels=_write(t / "l.csv", "label\n0\n1\n"), classifier=_write_npz(t / "w.npz", W=np.ones((5, 2)))),
        "5 rows but the dataset has 2 classes"),
}


def _write_npy(p: Path, arr, allow_pickle=False) -> Path:
    np.save(p, arr, allow_pickle=allow_pickle)
    return p


def _write_npz(p: Path, **arrs) -> Path:
    np.savez(p, **arrs)
    return p


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def _torch_pickle(p: Path) -> Path:
    import torch

    torch.save({"weight": _Evil()}, p)
    return p


def test_there_are_at_least_15_distinct_bad_inputs():
    assert len(BAD) >= 15


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_gives_a_clear_message(name, tmp_path):
    build, pattern = BAD[name]
    call = build(tmp_path)
    with pytest.raises(InputError, match=pattern) as info:
        call()
    msg = str(info.value)
    assert str(tmp_path) in msg or "field" in msg or "dataset" in msg, msg  # names the file or the field


def test_loaders_never_modify_their_inputs(data_dir, tmp_path):
    files = [data_dir / "coco_val2014_100/instances_val2014_100.json.gz",
             data_dir / "coco_val2014_100/instances_val2014_fakebbox100_results.json.gz",
             data_dir / "lvis_v0_5_val_100/lvis_val_100.json.gz",
             data_dir / "imagenet_lt/ImageNet_LT_val.txt.gz", data_dir / "imagenet_lt/ImageNet_LT_class_counts.csv"]
    before = {f: (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns) for f in files}
    gt = load_detection_gt(files[0])
    load_detection_results(files[1], gt)
    load_detection_gt(files[2])
    counts = load_train_counts(files[4])
    load_labels(files[3], counts)
    after = {f: (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns) for f in files}
    assert before == after


def test_class_name_list(tmp_path):
    assert load_class_names(_write(tmp_path / "e.txt", "joy\nfear\n")) == ["joy", "fear"]
    with pytest.raises(InputError, match="duplicate"):
        load_class_names(_write(tmp_path / "d.txt", "joy\njoy\n"))


def _npy_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


def test_files_above_the_size_limit_are_refused(tmp_path, monkeypatch):
    import lt_core.data.loaders as L

    p = tmp_path / "big.csv"
    p.write_text("label\n" + "0\n" * 1000)
    monkeypatch.setattr(L, "MAX_FILE_BYTES", 100)
    with pytest.raises(InputError, match="above the .* limit"):
        load_labels(p)
