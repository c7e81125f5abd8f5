"""A dataset edited part by part (lt_core.data.parts) on the real lists in tests/data."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import userdata as U
from lt_core.bins import assign_bins, choose_bin_scheme
from lt_core.data import MultiLabelRowsError, load_features, load_labels, load_train_counts
from lt_core.data.parts import ClassificationParts, FileRef, assemble_classification
from lt_core.data.schema import Predictions, Run
from lt_core.errors import InputError


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    d = tmp_path_factory.mktemp("places")
    U.write_scores(d / "modelA_test.npy", U.PLACES_TEST, U.PLACES_COUNTS, seed=1)
    U.write_scores(d / "modelB_test.npy", U.PLACES_TEST, U.PLACES_COUNTS, seed=2, tail_boost=1.0)
    U.write_scores(d / "modelA_val.csv", U.PLACES_VAL, U.PLACES_COUNTS, seed=3)
    return d


def _base():
    return ClassificationParts(name="Places-LT", train_counts=FileRef.of(U.PLACES_COUNTS),
                               val_labels=FileRef.of(U.PLACES_VAL), test_labels=FileRef.of(U.PLACES_TEST))


def test_adding_model_b_keeps_model_a_and_reads_only_the_new_file(places):
    p = _base().with_file("run", FileRef.of(places / "modelA_test.npy"), "test", "modelA")
    ds_a = assemble_classification(p)
    assert list(ds_a.runs) == ["modelA"] and ds_a.classes.n_classes == 365
    p2 = p.with_file("run", FileRef.of(places / "modelB_test.npy"), "test", "modelB")
    ds_b = assemble_classification(p2, previous=ds_a)
    assert list(ds_b.runs) == ["modelA", "modelB"]
    # model A, the labels and the class table are the very objects read before (not re-read)
    assert ds_b.runs["modelA"].preds["test"] is ds_a.runs["modelA"].preds["test"]
    assert ds_b.labels["test"] is ds_a.labels["test"] and ds_b.classes is ds_a.classes
    assert np.array_equal(ds_b.runs["modelB"].preds["test"].scores, np.load(places / "modelB_test.npy"))
    # val scores added to model A later (a CSV of score columns): A gains a split, B untouched
    p3 = p2.with_file("run", FileRef.of(places / "modelA_val.csv"), "val", "modelA")
    ds_c = assemble_classification(p3, previous=ds_b)
    assert ds_c.runs["modelA"].splits == ["val", "test"] and ds_c.runs["modelB"].splits == ["test"]
    assert ds_c.runs["modelB"].preds["test"] is ds_b.runs["modelB"].preds["test"]
    assert any("logits" in n for n in ds_c.runs["modelA"].preds["val"].notes)


def test_runs_renamed_and_removed_keep_their_order(places):
    p = (_base().with_file("run", FileRef.of(places / "modelA_test.npy"), "test", "A")
         .with_file("run", FileRef.of(places / "modelB_test.npy"), "test", "B"))
    ds = assemble_classification(p)
    ds2 = assemble_classification(p.renamed_run("A", "resnet"), previous=ds)
    assert list(ds2.runs) == ["resnet", "B"] and ds2.runs["resnet"].name == "resnet"
    assert ds2.runs["resnet"].preds["test"] is ds.runs["A"].preds["test"]
    ds3 = assemble_classification(p.renamed_run("A", "resnet").without_run("resnet"), previous=ds2)
    assert list(ds3.runs) == ["B"]
    with pytest.raises(InputError, match="already exists"):
        p.renamed_run("A", "B")


def test_an_edit_that_breaks_a_run_is_refused_naming_the_run(places):
    p = _base().with_file("run", FileRef.of(places / "modelA_test.npy"), "test", "modelA")
    ds = assemble_classification(p)
    # the val list as the new test labels: 7,300 rows, model A has 36,500 test rows
    with pytest.raises(InputError, match="run .modelA. does not fit.*36500 predictions but 7300 labels"):
        assemble_classification(p.with_file("test_labels", FileRef.of(U.PLACES_VAL)), previous=ds)
    # removing the test labels keeps the run (predictions without labels are unchecked, not dropped)
    ds2 = assemble_classification(p.with_file("test_labels", None), previous=ds)
    assert "test" not in ds2.labels and list(ds2.runs) == ["modelA"]


def test_derived_runs_are_parts_too(places):
    p = _base().with_file("run", FileRef.of(places / "modelA_test.npy"), "test", "A")
    ds = assemble_classification(p)
    z = ds.runs["A"].preds["test"].scores - 1.0 * np.log(ds.classes.train_count)[None, :]
    run = Run("A + LA", {"test": Predictions("test", "logits", scores=z.astype(np.float32))})
    p2 = p.with_derived_run(run, ["adj-1"])
    ds2 = assemble_classification(p2, previous=ds)
    assert list(ds2.runs) == ["A", "A + LA"] and ds2.runs["A + LA"] is run
    with pytest.raises(InputError, match="no predictions"):
        p.with_derived_run(Run("empty", {}))
    with pytest.raises(InputError, match="made in the app"):
        p2.with_file("run", FileRef.of(places / "modelB_test.npy"), "test", "A + LA")


def test_uploads_are_named_by_their_original_name(tmp_path):
    # an upload saved under a temporary name: every message and source names the user's file
    tmp = tmp_path / "upload_7f3a9c"
    shutil.copy(U.PLACES_TEST, tmp)
    p = ClassificationParts(train_counts=FileRef.of(U.PLACES_COUNTS),
                            test_labels=FileRef.of(tmp, "Places_LT_test.txt.gz", "upload"))
    ds = assemble_classification(p)
    assert ds.labels["test"].source == "Places_LT_test.txt.gz (uploaded)"
    bad = tmp_path / "upload_0001"
    bad.write_text("foo,bar\n1,2\n")
    with pytest.raises(InputError) as e:
        assemble_classification(p.with_file("val_labels", FileRef.of(bad, "my_val.csv", "upload")))
    assert "my_val.csv" in str(e.value) and "upload_0001" not in str(e.value)


def test_goemotions_multilabel_rows_are_counted_and_full_feature_file_fits():
    g = U.GOEMOTIONS
    p = ClassificationParts(name="GoEmotions slice", train_labels=FileRef.of(g / "train_2000.tsv.gz"),
                            class_names=FileRef.of(g / "emotions.txt"), val_labels=FileRef.of(g / "dev_600.tsv.gz"),
                            features={"train": FileRef.of(g / "train_2000_minilm.npy"),
                                      "val": FileRef.of(g / "dev_600_minilm.npy")})
    # a single-label analysis stops at the multi-label rows and says how many (never silently)
    with pytest.raises(MultiLabelRowsError, match="328 of 2,000 rows carry several labels") as e:
        assemble_classification(p)
    assert "train_2000.tsv.gz" in str(e.value) and str(g) not in str(e.value)
    p.multi_label = "drop"
    ds = assemble_classification(p)
    tr = ds.labels["train"]
    n_multi = 2000 - len(tr)
    assert n_multi == 328  # rows whose label field holds a comma, counted independently below
    rows = [ln.split("\t") for ln in __import__("gzip").open(g / "train_2000.tsv.gz", "rt").read().splitlines()]
    assert sum("," in r[1] for r in rows) == n_multi
    assert any(f"{n_multi:,} of 2,000 rows carried several labels: dropped" in n for n in tr.notes)
    # the feature file holds all 2,000 rows; the 1,672 kept rows are the ones at file_rows
    X = load_features(g / "train_2000_minilm.npy").X
    assert np.array_equal(ds.features["train"].X, X[tr.file_rows])
    assert any("kept the 1,672 rows of the 2,000" in n for n in ds.features["train"].notes)
    assert any("float16" in n for n in ds.features["train"].notes)
    assert ds.features["val"].X.shape == (len(ds.labels["val"]), 384)


def test_a_feature_file_that_fits_no_way_says_why_and_what_to_do():
    g = U.GOEMOTIONS
    p = ClassificationParts(train_labels=FileRef.of(g / "train_2000.tsv.gz"),
                            features={"train": FileRef.of(g / "dev_600_minilm.npy")}, multi_label="drop")
    with pytest.raises(InputError) as e:
        assemble_classification(p)
    msg = str(e.value)
    assert "600 feature rows but 1,672 train labels" in msg and "2,000 rows" in msg and "dev_600_minilm.npy" in msg


def test_imagenet_lt_counts_choose_the_imagenet_lt_bins_385_479_136():
    c = load_train_counts(U.IMAGENET_COUNTS)
    choice = choose_bin_scheme(c.train_count, groups=c.groups, group_column=c.group_column)
    assert choice.spec == "imagenet-lt" and "shot_group" in choice.reason
    b = assign_bins(c.train_count, choice.spec)
    assert [(b == n).sum() for n in ("many", "medium", "few")] == [385, 479, 136]
    # the choice reproduces the file's own column, class by class
    assert (b == c.groups).all()


def test_labels_of_one_split_in_a_file_with_a_split_column_say_what_was_kept(tmp_path):
    f = tmp_path / "labels.csv"
    f.write_text("id,label,split\n" + "".join(f"s{i},{i % 3},{'train' if i < 6 else 'test'}\n" for i in range(9)))
    lab, _ = load_labels(f, split="test")
    assert len(lab) == 3 and any("kept the 3 rows with split = test of 9" in n for n in lab.notes)


def test_goemotions_as_multi_label_keeps_every_row_and_the_full_feature_file():
    g = U.GOEMOTIONS
    p = ClassificationParts(name="GoEmotions slice", train_labels=FileRef.of(g / "train_2000.tsv.gz"),
                            class_names=FileRef.of(g / "emotions.txt"),
                            features={"train": FileRef.of(g / "train_2000_minilm.npy")}, multi_label="multi")
    ds = assemble_classification(p)
    assert ds.multi_label and len(ds.labels["train"]) == 2000 and ds.features["train"].X.shape == (2000, 384)
