"""The content behind the examples: texts kept by the loaders, image roots for lists and image
folders, thumbnails; the selections built from decisions (τ changes, new heads) and per class,
each against a plain NumPy / Python computation; ``eval-cls --examples``."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from examples_data import class_colour, make_image_list_dataset
from lt_core.data import ClassTable, Labels, Predictions, load_label_splits, load_labels
from lt_core.errors import InputError
from lt_core.examples import (bin_flow, by_class, confusion_cell, decision_changes, sample_content, sample_table,
                              worst_per_class)


# ---------------------------------------------------------------------------------------------- texts
def test_text_columns_are_kept_per_split(tmp_path):
    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "label": ["x", "y", "x", "y"], "split": ["train", "test"] * 2,
                       "sentence": ["one", "two, with a comma", "three", "four\tfive"]})
    p = tmp_path / "l.csv"
    df.to_csv(p, index=False)
    out, _ = load_label_splits(p)
    assert list(out["train"].texts) == ["one", "three"] and list(out["test"].texts) == ["two, with a comma", "four\tfive"]
    # parquet, a 'comment' column with a missing value; an explicit column name
    q = tmp_path / "l.parquet"
    pd.DataFrame({"label": [0, 1, 1], "comment": ["hi", None, "yo"], "body": ["b1", "b2", "b3"]}).to_parquet(q)
    lab, _ = load_labels(q)
    assert list(lab.texts) == ["hi", None, "yo"]
    lab, _ = load_labels(q, text_col="body")
    assert list(lab.texts) == ["b1", "b2", "b3"]
    with pytest.raises(InputError, match="no column 'nope'"):
        load_labels(q, text_col="nope")
    # no text column: None
    r = tmp_path / "n.csv"
    pd.DataFrame({"label": [0, 1]}).to_csv(r, index=False)
    assert load_labels(r)[0].texts is None


def test_goemotions_tsv_keeps_the_comment_of_each_kept_row(tmp_path):
    src = Path("/work/shared/data/goemotions/test.tsv.gz")
    rows = ["I love this!\t0\tid1", "meh, whatever\t3,4\tid2", "so sad today\t25\tid3", "ok\t27\tid4"]
    p = tmp_path / "test.tsv"
    p.write_text("\n".join(rows) + "\n")
    lab, _ = load_labels(p, multi_label="drop")
    assert list(lab.sample_ids) == ["id1", "id3", "id4"]  # the multi-label row is dropped
    assert list(lab.texts) == ["I love this!", "so sad today", "ok"]
    ml, _ = load_labels(p, multi_label="multi")  # every row, with its text
    assert list(ml.texts) == [r.split("\t")[0] for r in rows]
    first, _ = load_labels(p, multi_label="first")
    assert list(first.texts) == [r.split("\t")[0] for r in rows]
    if src.exists():  # the real file: every kept comment is the first TSV field of its row
        real = tmp_path / "real_test.tsv"
        real.write_bytes(gzip.decompress(src.read_bytes()))
        lab, _ = load_labels(real, multi_label="drop")
        first = {r.split("\t")[2]: r.split("\t")[0] for r in real.read_text().splitlines() if r.strip()}
        assert len(lab) > 4000 and all(first[i] == t for i, t in zip(lab.sample_ids, lab.texts))


def test_texts_follow_the_rows_into_the_sample_table():
    classes = ClassTable(np.arange(3), ["a", "b", "c"], [100, 10, 1])
    lab = Labels(np.array([0, 1, 2, 1]), "test", np.array(list("pqrs"), dtype=object),
                 texts=np.array(["t0", "t1", None, "t3"], dtype=object))
    s = np.eye(3, dtype=np.float32)[[0, 0, 2, 1]] * 5
    t = sample_table(lab, Predictions("test", "logits", scores=s), classes, "imagenet-lt")
    assert [None if pd.isna(v) else v for v in t["text"]] == ["t0", "t1", None, "t3"]
    sel = by_class(t, classes, 1)
    assert sel.rows.loc[0, "text"] == "t1" and not sel.rows.loc[0, "correct"]  # the mistake first


# ---------------------------------------------------------------------------------------------- images
def test_image_folder_labels_are_their_own_image_root(tmp_path):
    from PIL import Image

    for k, cls in enumerate(["cat", "dog"]):
        (tmp_path / "tree" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (20, 10), class_colour(k, 2)).save(tmp_path / "tree" / cls / f"{i}.png")
    lab, classes = load_labels(tmp_path / "tree")
    assert lab.image_root == str((tmp_path / "tree").resolve())
    c = sample_content(lab)
    assert c.kind == "image"
    paths = c.image_paths(range(len(lab)))
    assert [p.relative_to(tmp_path / "tree").as_posix() for p in paths] == list(lab.sample_ids)


def test_list_paths_resolve_under_the_root_or_the_split_folder(tmp_path):
    d = make_image_list_dataset(tmp_path / "data", n_classes=4, n_test=12)
    counts = pd.read_csv(d["counts"])
    classes = ClassTable(counts["class_id"], counts["name"], counts["count"])
    lab, _ = load_labels(d["list"], classes, split="test")
    assert lab.image_root is None and sample_content(lab).kind == "none"
    for root in (d["root"], d["root"] / "train"):  # the dataset root, or the split folder itself
        c = sample_content(lab, root)
        got = c.image_paths(range(len(lab)))
        assert all(p is not None and p.is_file() for p in got)
        assert [p.name for p in got] == [Path(r).name for r in d["paths"]]
    # a missing file is None, an id that leaves the root is None (never a file outside)
    lab2 = Labels(lab.y[:3], "test", np.array([d["paths"][0], "train/missing.png", "../../etc/passwd"], dtype=object))
    got = sample_content(lab2, d["root"]).image_paths([0, 1, 2])
    assert got[0] is not None and got[1] is None and got[2] is None
    with pytest.raises(InputError, match="no such image folder"):
        sample_content(lab, tmp_path / "nowhere")


def test_thumbnails_of_a_generated_folder_show_the_image(tmp_path):
    from PIL import Image

    from lt_core.images import ThumbnailCache

    p = tmp_path / "a.png"
    arr = np.zeros((300, 400, 3), np.uint8)
    arr[:, :200] = (200, 30, 30)
    arr[:, 200:] = (30, 30, 200)
    Image.fromarray(arr).save(p)
    cache = ThumbnailCache(tmp_path / "thumbs", fmt="png")
    t = np.asarray(Image.open(cache.get(p, 100)))
    assert t.shape == (75, 100, 3)
    np.testing.assert_array_equal(t[37, 10], (200, 30, 30))
    np.testing.assert_array_equal(t[37, 90], (30, 30, 200))
    assert cache.misses == 1 and cache.get(p, 100) and cache.hits == 1  # made once, then served


# ---------------------------------------------------------------------------------------------- selections
def _data(seed=0, n=2000, c=9):
    rng = np.random.default_rng(seed)
    counts = np.sort(rng.integers(1, 300, c))[::-1].copy()
    classes = ClassTable(np.arange(10, 10 + c), [f"k{i}" for i in range(c)], counts)
    y = rng.choice(c, n, p=counts / counts.sum())
    z = rng.normal(size=(n, c)).astype(np.float32)
    z[np.arange(n), y] += rng.uniform(0, 2.5, n).astype(np.float32)
    return classes, Labels(y, "test", np.array([f"s{i}" for i in range(n)], dtype=object)), z


def _softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_sample_table_on_a_subset_of_rows_equals_the_whole_table():
    classes, lab, z = _data()
    preds = Predictions("test", "logits", scores=z)
    full = sample_table(lab, preds, classes, "quantile:3")
    rows = np.array([5, 17, 3, 1999])
    part = sample_table(lab, preds, classes, "quantile:3", rows=rows)
    pd.testing.assert_frame_equal(part.reset_index(drop=True), full.iloc[rows].reset_index(drop=True))
    with pytest.raises(InputError):
        sample_table(lab, preds, classes, "quantile:3", rows=np.array([2000]))


def test_decision_changes_equal_numpy_and_ask_scores_only_for_flipped_rows():
    classes, lab, z = _data(seed=1)
    y = lab.y
    prior = np.log(classes.train_count / classes.train_count.sum())
    adj = z - 1.0 * prior[None, :]
    pa, pb = z.argmax(1), adj.argmax(1)
    asked = []

    def after(rows):
        asked.append(len(rows))
        return adj[rows]

    sel = decision_changes(lab, classes, "quantile:3", pa, pb, before_scores=z, after_scores=after, which="both",
                           cap=None, names=("t0", "t1"))
    fixed, broken = (pa != y) & (pb == y), (pa == y) & (pb != y)
    assert sel.total == int(fixed.sum() + broken.sum()) > 0
    assert asked == [sel.total]  # one call, the flipped rows only
    r = sel.rows
    assert set(r.loc[r["change"] == "fixed", "row"]) == set(np.flatnonzero(fixed))
    assert set(r.loc[r["change"] == "broken", "row"]) == set(np.flatnonzero(broken))
    P = _softmax(adj)
    np.testing.assert_allclose(r["confidence_t1"], P[r["row"], pb[r["row"]]], rtol=1e-5)
    nb = int(broken.sum())
    assert (r["change"].iloc[:nb] == "broken").all() and np.all(np.diff(r["confidence_t1"].iloc[:nb]) <= 0)
    # one class only
    k = int(np.bincount(y[fixed | broken]).argmax())
    one = decision_changes(lab, classes, "quantile:3", pa, pb, which="fixed", cap=None, true_ids=classes.ids[k])
    assert set(one.rows["row"]) == set(np.flatnonzero(fixed & (y == k)))
    assert one.rows["confidence_after"].isna().all()  # no scores given: hard decisions


def test_worst_per_class_is_each_class_worst_first_cut_to_n():
    classes, lab, z = _data(seed=2)
    t = sample_table(lab, Predictions("test", "logits", scores=z), classes, "imagenet-lt")
    w = worst_per_class(t, classes, 4)
    P, p, y = _softmax(z), z.argmax(1), lab.y
    conf = P[np.arange(len(y)), p]
    srt = np.sort(P, 1)
    margin = np.where(p == y, srt[:, -1] - srt[:, -2], conf - P[np.arange(len(y)), y])
    exp = []
    for k in range(classes.n_classes):
        rows = np.flatnonzero(y == k)
        rows = sorted(rows, key=lambda r: (p[r] == y[r], -conf[r] if p[r] != y[r] else margin[r], r))[:4]
        exp += rows
    assert list(w["row"]) == exp
    assert list(w["rank"][:4]) == [1, 2, 3, 4]
    sup = np.bincount(y, minlength=classes.n_classes)
    np.testing.assert_array_equal(w["class_support"], sup[classes.index_of(w["true_id"])])
    with pytest.raises(InputError):
        worst_per_class(t, classes, 0)


def test_bin_flow_and_pooled_cells_match_numpy():
    classes, lab, z = _data(seed=3)
    t = sample_table(lab, Predictions("test", "logits", scores=z), classes, "quantile:3")
    bins = classes.bins("quantile:3")
    y, p = lab.y, z.argmax(1)
    sel = bin_flow(t, "tail", "head", cap=None)
    assert set(sel.rows["row"]) == set(np.flatnonzero((bins[y] == "tail") & (bins[p] == "head") & (p != y)))
    a, b = classes.ids[[0, 1, 2]], classes.ids[[6, 7, 8]]
    sel = confusion_cell(t, classes, a, b, cap=None)
    exp = np.flatnonzero(np.isin(y, [0, 1, 2]) & np.isin(p, [6, 7, 8]))
    assert sel.total == len(exp) and set(sel.rows["row"]) == set(exp)
    assert "3 classes" in sel.title


def test_confusion_cells_chart_counts_equal_numpy():
    from lt_core.metrics import ConfusionState, ordered_confusion, update
    from lt_core.plots.metrics import confusion_cells_chart

    classes, lab, z = _data(seed=4, c=9)
    p = z.argmax(1)
    st = update(ConfusionState.empty(classes.n_classes), lab.y, p)
    counts, order = ordered_confusion(st, classes, normalize=False)
    cm = np.zeros((9, 9), int)
    np.add.at(cm, (lab.y, p), 1)
    fig = confusion_cells_chart(counts, order, classes, "quantile:3")
    cd = np.asarray(fig.data[0].customdata, dtype=object)
    for row in cd:  # every marker: its counts and the class ids it selects
        ti, pi = classes.index_of([int(row[4])])[0], classes.index_of([int(row[5])])[0]
        assert ti != pi and int(row[2]) == cm[ti, pi]
        assert abs(float(row[3]) - cm[ti, pi] / cm[ti].sum()) < 1e-12
    assert len(cd) == int((cm > 0).sum() - (np.diag(cm) > 0).sum())
    pooled = confusion_cells_chart(counts, order, classes, "quantile:3", max_groups=3)
    pc = np.asarray(pooled.data[0].customdata, dtype=object)
    g = [order[i:i + 3] for i in range(0, 9, 3)]
    for row in pc:
        ti = classes.index_of([int(v) for v in row[4].split(",")])
        pi = classes.index_of([int(v) for v in row[5].split(",")])
        assert int(row[2]) == cm[np.ix_(ti, pi)].sum()
        assert any(set(ti) == set(x) for x in g)
    # the open cell is outlined around its marker (a shape: the markers, and so the clicks, are unchanged)
    row = cd[0]
    sel = confusion_cells_chart(counts, order, classes, "quantile:3", selected=([int(row[4])], [int(row[5])]))
    assert len(sel.data) == len(fig.data) and np.array_equal(sel.data[0].x, fig.data[0].x)
    rect = [s_ for s_ in sel.layout.shapes if s_.type == "rect"]
    assert len(rect) == 1
    x, y = float(fig.data[0].x[0]), float(fig.data[0].y[0])
    assert rect[0].x0 < x < rect[0].x1 and rect[0].y0 < y < rect[0].y1 and rect[0].x1 - rect[0].x0 < 1.5


# ---------------------------------------------------------------------------------------------- CLI
def test_eval_cls_examples_writes_json_and_csv_next_to_out(tmp_path, capsys):
    from lt_core.cli import main

    d = make_image_list_dataset(tmp_path / "data", n_classes=5, n_test=60, seed=3)
    out = tmp_path / "rep.json"
    rc = main(["eval-cls", "--labels", str(d["list"]), "--preds", str(d["scores"]), "--train-counts",
               str(d["counts"]), "--out", str(out), "--examples", "2"])
    assert rc == 0
    doc = json.loads((tmp_path / "rep_examples.json").read_text())
    csv = pd.read_csv(tmp_path / "rep_examples.csv")
    y, z = d["y"], d["logits"]
    P, p = _softmax(z), z.argmax(1)
    conf = P[np.arange(len(y)), p]
    srt = np.sort(P, 1)
    margin = np.where(p == y, srt[:, -1] - srt[:, -2], conf - P[np.arange(len(y)), y])
    assert doc["n_per_class"] == 2 and len(doc["per_class"]) == 5
    for c in doc["per_class"]:
        k = c["class_id"]
        rows = sorted(np.flatnonzero(y == k), key=lambda r: (p[r] == y[r], -conf[r] if p[r] != y[r] else margin[r], r))
        assert [e["row"] for e in c["examples"]] == rows[:2]
        assert [e["sample_id"] for e in c["examples"]] == [d["paths"][r] for r in rows[:2]]
        assert c["support"] == int((y == k).sum()) and c["errors"] == int(((y == k) & (p != y)).sum())
        for e in c["examples"]:
            assert abs(e["confidence"] - conf[e["row"]]) < 1e-6
    assert list(csv["row"]) == [e["row"] for c in doc["per_class"] for e in c["examples"]]
    assert "rep_examples.json" in capsys.readouterr().out
    # --examples needs --out; an output over an input is refused before any work
    assert main(["eval-cls", "--labels", str(d["list"]), "--preds", str(d["scores"]), "--train-counts",
                 str(d["counts"]), "--examples", "2"]) == 2
    target = d["root"] / "test_examples.csv"  # the labels given are the file --examples would write
    target.write_text("keep me")
    assert main(["eval-cls", "--labels", str(target), "--preds", str(d["scores"]), "--train-counts",
                 str(d["counts"]), "--out", str(d["root"] / "test.json"), "--examples", "2"]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert target.read_text() == "keep me" and not (d["root"] / "test.json").exists()


# ---------------------------------------------------------------------------------------------- multi-label
def test_multilabel_class_selections_equal_numpy():
    from lt_core.data import MultiLabels
    from lt_core.examples import multilabel_class, multilabel_worst_per_class

    rng = np.random.default_rng(7)
    n, c = 600, 6
    Y = rng.random((n, c)) < np.linspace(0.4, 0.03, c)
    Z = rng.normal(size=(n, c)) + 2.0 * Y - 1.0
    classes = ClassTable(np.arange(50, 50 + c), [f"e{i}" for i in range(c)], Y.sum(0) * 10 + 1)
    lab = MultiLabels.from_dense(Y, "test", np.array([f"c{i}" for i in range(n)], dtype=object))
    lab.texts = np.array([f"text {i}" for i in range(n)], dtype=object)
    P = 1 / (1 + np.exp(-Z))
    for k in (0, 3, 5):
        cid = int(classes.ids[k])
        fn, fp = Y[:, k] & (P[:, k] < 0.5), ~Y[:, k] & (P[:, k] >= 0.5)
        sel = multilabel_class(lab, Z, classes, cid, which="errors", cap=None)
        exp = sorted(np.flatnonzero(fn | fp), key=lambda r: (-(1 - P[r, k]) if fn[r] else -P[r, k], r))
        assert list(sel.rows["row"]) == exp and sel.total == len(exp)
        assert set(sel.rows.loc[sel.rows["outcome"] == "FN", "row"]) == set(np.flatnonzero(fn))
        r0 = int(sel.rows["row"].iloc[0])
        assert sel.rows["true_labels"].iloc[0] == ", ".join(f"e{j}" for j in np.flatnonzero(Y[r0]))
        pred = np.flatnonzero(P[r0] >= 0.5)
        assert sel.rows["predicted_labels"].iloc[0] == ", ".join(f"e{j}" for j in pred[np.argsort(-P[r0, pred])])
        assert sel.rows["text"].iloc[0] == f"text {r0}"
        miss = multilabel_class(lab, P, classes, cid, kind="probs", which="missed", cap=3)
        assert miss.total == int(fn.sum()) and len(miss.rows) == min(3, int(fn.sum()))
    # the run's own decisions (per-class thresholds) instead of 0.5
    t = np.linspace(0.3, 0.7, c)
    D = P >= t
    sel = multilabel_class(lab, Z, classes, int(classes.ids[2]), decided=D, which="false positives", cap=None)
    assert set(sel.rows["row"]) == set(np.flatnonzero(~Y[:, 2] & D[:, 2]))
    w = multilabel_worst_per_class(lab, Z, classes, 2, threshold=t)
    for k in range(c):
        g = w[w["class_id"] == classes.ids[k]]
        fn, fp = Y[:, k] & ~D[:, k], ~Y[:, k] & D[:, k]
        exp = sorted(np.flatnonzero(fn | fp), key=lambda r: (-(1 - P[r, k]) if fn[r] else -P[r, k], r))[:2]
        assert list(g["row"]) == exp
        if len(g):
            assert g["class_missed"].iloc[0] == fn.sum() and g["class_false_positives"].iloc[0] == fp.sum()


def test_the_goemotions_demo_carries_every_comment_text(data_dir):
    """The demo's texts are the TSVs' first field, row for row (tests/data/goemotions: the first real rows)."""
    from lt_core.data import load_classification_demo

    ml = load_classification_demo("multi-label")
    for split, name in (("test", "test"), ("val", "dev"), ("train", "train")):
        rows = [r.split("\t") for r in gzip.decompress((data_dir / "goemotions" / f"{name}.tsv.gz").read_bytes())
                .decode("utf-8").splitlines() if r.strip()]
        lab = ml.labels[split]
        assert list(lab.sample_ids[:len(rows)]) == [r[2] for r in rows]
        assert list(lab.texts[:len(rows)]) == [r[0] for r in rows]
        assert len(lab.texts) == len(lab) and all(isinstance(t, str) for t in lab.texts)
    single = load_classification_demo("single-label")
    by_id = dict(zip(ml.labels["test"].sample_ids, ml.labels["test"].texts))
    assert all(by_id[i] == t for i, t in zip(single.labels["test"].sample_ids, single.labels["test"].texts))


def test_eval_cls_examples_multilabel(tmp_path, data_dir):
    """GoEmotions rows (real, every row) with a generated score matrix: the JSON equals NumPy."""
    from lt_core.cli import main

    src = data_dir / "goemotions" / "test.tsv.gz"
    names = (data_dir / "goemotions" / "emotions.txt").read_text().split()
    rows = [r.split("\t") for r in gzip.decompress(src.read_bytes()).decode("utf-8").splitlines() if r.strip()]
    n, c = len(rows), len(names)
    Y = np.zeros((n, c), bool)
    for i, r in enumerate(rows):
        Y[i, [int(t) for t in r[1].split(",")]] = True
    rng = np.random.default_rng(0)
    P = np.clip(0.6 * Y + rng.uniform(0, 0.55, (n, c)), 0, 1).astype(np.float32)
    np.save(tmp_path / "p.npy", P)
    pd.DataFrame({"class_id": range(c), "count": np.arange(c, 0, -1) * 10, "name": names}).to_csv(
        tmp_path / "counts.csv", index=False)
    rc = main(["eval-cls", "--labels", str(src), "--preds", str(tmp_path / "p.npy"), "--train-counts",
               str(tmp_path / "counts.csv"), "--out", str(tmp_path / "r.json"), "--examples", "3"])
    assert rc == 0
    doc = json.loads((tmp_path / "r_examples.json").read_text())
    assert doc["multi_label"] and doc["threshold"] == 0.5
    for k, cls in enumerate(doc["per_class"]):
        fn, fp = Y[:, k] & (P[:, k] < 0.5), ~Y[:, k] & (P[:, k] >= 0.5)
        exp = sorted(np.flatnonzero(fn | fp), key=lambda r: (-(1 - P[r, k]) if fn[r] else -P[r, k], r))[:3]
        assert [e["row"] for e in cls["examples"]] == exp
        assert cls["missed"] == int(fn.sum()) and cls["false_positives"] == int(fp.sum())
        for e in cls["examples"]:
            assert e["text"] == rows[e["row"]][0] and e["sample_id"] == rows[e["row"]][2]


def test_multilabel_changes_equal_numpy():
    from lt_core.data import MultiLabels
    from lt_core.examples import multilabel_changes

    rng = np.random.default_rng(8)
    n, c = 500, 5
    Y = rng.random((n, c)) < 0.2
    Z = rng.normal(size=(n, c)) + 2.0 * Y - 1.0
    P = 1 / (1 + np.exp(-Z))
    classes = ClassTable(np.arange(c), [f"e{i}" for i in range(c)], Y.sum(0))
    lab = MultiLabels.from_dense(Y, "test")
    D0, D1 = P >= 0.5, P >= np.linspace(0.2, 0.6, c)
    for k in range(c):
        sel = multilabel_changes(lab, classes, k, D0, D1, scores=Z, which="both", cap=None)
        fixed = (D0[:, k] != Y[:, k]) & (D1[:, k] == Y[:, k])
        broken = (D0[:, k] == Y[:, k]) & (D1[:, k] != Y[:, k])
        assert set(sel.rows.loc[sel.rows["change"] == "fixed", "row"]) == set(np.flatnonzero(fixed))
        assert set(sel.rows.loc[sel.rows["change"] == "broken", "row"]) == set(np.flatnonzero(broken))
        nb = int(broken.sum())
        assert (sel.rows["change"].iloc[:nb] == "broken").all()
        sure = np.where(D1[sel.rows["row"], k], P[sel.rows["row"], k], 1 - P[sel.rows["row"], k])
        assert (np.diff(sure[:nb]) <= 1e-12).all()
