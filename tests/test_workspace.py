"""Workspaces on disk (lt_core.workspace): a round trip with every number identical, uploads copied,
a killed save never leaves an unreadable workspace, explicit delete."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

import lt_core.workspace as W
import userdata as U
from lt_core.data import build_detection_dataset
from lt_core.data.parts import ClassificationParts, DetectionParts, FileRef, assemble_classification
from lt_core.data.schema import Predictions, Run
from lt_core.errors import InputError
from lt_core.metrics import classification_report


def _sha(p) -> str:
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


@pytest.fixture()
def places_parts(tmp_path):
    up = tmp_path / "uploads"
    up.mkdir()
    # uploads saved under temporary names, as the app does; the user knows them by their own names
    shutil.copy(U.PLACES_TEST, up / "f1")
    U.write_scores(up / "f2", U.PLACES_TEST, U.PLACES_COUNTS, seed=1)
    U.write_scores(up / "f3", U.PLACES_TEST, U.PLACES_COUNTS, seed=2, tail_boost=1.0)
    U.write_scores(up / "f4", U.PLACES_VAL, U.PLACES_COUNTS, seed=3)
    p = ClassificationParts(name="Places-LT", train_counts=FileRef.of(U.PLACES_COUNTS),
                            val_labels=FileRef.of(U.PLACES_VAL),
                            test_labels=FileRef.of(up / "f1", "Places_LT_test.txt.gz", "upload"))
    p = p.with_file("run", FileRef.of(up / "f2", "modelA_test.npy", "upload"), "test", "modelA")
    p = p.with_file("run", FileRef.of(up / "f4", "modelA_val.npy", "upload"), "val", "modelA")
    p = p.with_file("run", FileRef.of(up / "f3", "modelB_test.npy", "upload"), "test", "modelB")
    return p, up


def _reports(ds, split="test"):
    return {n: classification_report(ds.labels[split].y, r.preds[split].labels, ds.classes, "imagenet-lt",
                                     bootstrap=200, seed=0)
            for n, r in ds.runs.items() if split in r.preds}


def test_round_trip_every_number_identical_and_uploads_not_needed(tmp_path, places_parts):
    parts, up = places_parts
    before = {f.name: _sha(f) for f in up.iterdir()}
    ws = W.create("Places LT", root=tmp_path / "wsroot")
    ds = assemble_classification(ws.import_parts(parts))
    # a run made in the app (logit adjustment of model A) with its adjustment, kept in the workspace
    z = ds.runs["modelA"].preds["test"].scores - 1.0 * np.log(ds.classes.train_count)[None, :]
    la = Run("modelA + LA τ=1.00", {"test": Predictions("test", "logits", scores=z.astype(np.float32),
                                                        labels=z.argmax(1), source="logit adjustment of modelA")},
             source="logit adjustment, τ = 1.00", description="logit adjustment of modelA")
    aid = ws.add_artifact("adjustment", {"kind": "logit_adjustment", "tau": 1.0}, run=la.name)
    ds.add_run(la)
    ds.parts = ds.parts.with_derived_run(la, [aid])
    ws.save(ds, bins={"spec": "imagenet-lt", "chosen_by": "data", "reason": "shot_group"})

    # the user's files are untouched, and no longer needed
    assert {f.name: _sha(f) for f in up.iterdir()} == before
    shutil.rmtree(up)

    ws2 = W.open(ws.path)
    ds2 = ws2.classification
    assert list(ds2.runs) == ["modelA", "modelB", "modelA + LA τ=1.00"]
    assert ds2.runs["modelA"].splits == ["val", "test"]
    assert ds2.labels["test"].source == "Places_LT_test.txt.gz (uploaded)" and ds2.runs["modelB"].source == "modelB_test.npy"
    assert ws2.bins["spec"] == "imagenet-lt"
    assert ws2.artifacts[aid].load() == {"kind": "logit_adjustment", "tau": 1.0}
    r1, r2 = _reports(ds), _reports(ds2)
    for n in r1:
        assert pd.Series(r1[n].overall).equals(pd.Series(r2[n].overall))
        assert r1[n].bins.equals(r2[n].bins)
        assert r1[n].per_class.equals(r2[n].per_class)
    for n, run in ds.runs.items():
        for s, p in run.preds.items():
            q = ds2.runs[n].preds[s]
            assert np.array_equal(p.labels, q.labels) and p.kind == q.kind
            assert (p.scores is None) == (q.scores is None) and (p.scores is None or np.array_equal(p.scores, q.scores))


def test_removed_runs_and_unreferenced_copies_are_cleaned_up(tmp_path, places_parts, monkeypatch):
    monkeypatch.setattr("lt_core.workspace.store.GRACE_S", 0.0)
    parts, _ = places_parts
    ws = W.create("p", root=tmp_path)
    ds = assemble_classification(ws.import_parts(parts))
    z = ds.runs["modelB"].preds["test"].scores
    run = Run("B copy", {"test": Predictions("test", "logits", scores=z)})
    ds.add_run(run)
    ds.parts = ds.parts.with_derived_run(run)
    ws.save(ds)
    stored = ds.parts.runs["B copy"].stored["test"]
    assert (ws.path / stored["scores"]).is_file()
    ds2 = assemble_classification(ds.parts.without_run("B copy").without_run("modelB"), previous=ds)
    ws.save(ds2)
    assert not (ws.path / stored["scores"]).exists()
    assert not any("modelB_test.npy" in str(f) for f in (ws.path / "files").rglob("*"))
    assert list(W.open(ws.path).classification.runs) == ["modelA"]


def test_detection_dataset_is_kept_and_reread(tmp_path, data_dir):
    d = data_dir / "coco_val2014_100"
    parts = DetectionParts(name="COCO 100", gt=FileRef.of(d / "instances_val2014_100.json.gz"),
                           results={"fakebbox": FileRef.of(d / "instances_val2014_fakebbox100_results.json.gz")})
    ws = W.create("coco", root=tmp_path)
    ws.save(detection=parts)
    det = W.open(ws.path).detection
    ref = build_detection_dataset(d / "instances_val2014_100.json.gz",
                                  {"fakebbox": d / "instances_val2014_fakebbox100_results.json.gz"})
    assert det.gt.n_images == ref.gt.n_images == 100
    r, q = det.results["fakebbox"], ref.results["fakebbox"]
    assert np.array_equal(r.bbox, q.bbox) and np.array_equal(r.score, q.score)
    assert r.source == "instances_val2014_fakebbox100_results.json.gz"


def test_list_and_delete_are_explicit(tmp_path):
    a = W.create("first", root=tmp_path)
    W.create("second", root=tmp_path)
    assert {w.name for w in W.list_workspaces(tmp_path)} == {"first", "second"}
    other = tmp_path / "not a workspace"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not a Tailscope workspace"):
        W.delete(other)
    assert (other / "keep.txt").read_text() == "mine"
    W.delete(a.path)
    assert not a.path.exists() and [w.name for w in W.list_workspaces(tmp_path)] == ["second"]
    with pytest.raises(InputError, match="no manifest"):
        W.open(other)


_SAVER = textwrap.dedent("""
    import os, signal, sys, numpy as np
    sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
    import lt_core.workspace as W
    import lt_core.workspace.store as S
    from lt_core.data.parts import assemble_classification
    from lt_core.data.schema import Predictions, Run
    ws = W.open({path!r})
    ds = ws.classification
    stage = {stage!r}
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    if stage == "scores":      # half of a run's score file written
        real = S.write_npy
        def write_npy(path, arr):
            if str(path).endswith("_scores.npy"):
                from pathlib import Path
                p = Path(path)
                p.parent.mkdir(parents=True, exist_ok=True)
                with open(p.parent / f".{{p.name}}.{{os.getpid()}}.half.tmp", "wb") as fh:
                    fh.write(b"x" * 1000)
                die()
            return real(path, arr)
        S.write_npy = write_npy
    elif stage == "manifest":  # the new manifest written to its temp file, not yet renamed
        real_replace = os.replace
        def replace(a, b):
            if str(b).endswith("manifest.json"):
                die()
            return real_replace(a, b)
        os.replace = replace
    elif stage == "clean":     # killed during the clean-up after the manifest is in place
        def clean(manifest):
            die()
        ws._clean = clean
    rng = np.random.default_rng(0)
    print("ready", flush=True)
    for i in range(10_000):
        z = rng.standard_normal((len(ds.labels["test"]), ds.classes.n_classes)).astype(np.float32)
        run = Run(f"gen {{i}}", {{"test": Predictions("test", "logits", scores=z)}})
        ds.add_run(run)
        ds.parts = ds.parts.with_derived_run(run)
        ws.save(ds)
        if len(ds.runs) > 3:
            first = [n for n in ds.runs if n.startswith("gen")][0]
            ds = assemble_classification(ds.parts.without_run(first), previous=ds)
            ws.save(ds)
""")


@pytest.mark.parametrize("stage", ["scores", "manifest", "clean", "random"])
def test_a_save_killed_at_any_moment_leaves_a_readable_workspace(tmp_path, places_parts, root_dir, stage):
    parts, _ = places_parts
    ws = W.create("killed", root=tmp_path)
    ds = assemble_classification(ws.import_parts(parts.without_run("modelB")))
    ws.save(ds)
    script = _SAVER.format(root=str(root_dir), tests=str(root_dir / "tests"), path=str(ws.path), stage=stage)
    rng = np.random.default_rng(len(stage))
    for _ in range(3 if stage == "random" else 1):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        if stage == "random":
            time.sleep(float(rng.uniform(0.05, 1.0)))
            os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
        back = W.open(ws.path)  # never raises: the manifest and every file it names are there
        runs = back.classification.runs
        assert "modelA" in runs
        for n, r in runs.items():
            assert len(r.preds["test"]) == len(back.classification.labels["test"])
    # the next save sweeps what the killed ones left behind
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("lt_core.workspace.store.GRACE_S", 0.0)
        back.save(back.classification)
    assert not [f for f in ws.path.rglob("*") if f.name.endswith(".tmp")]


def test_detection_with_its_train_frequency_file_is_reread_the_same(tmp_path, data_dir):
    d = data_dir / "lvis_v0_5_val_100"
    gt, cats = d / "lvis_val_100.json.gz", d / "lvis_v0_5_categories.csv"
    ws = W.create("lvis", root=tmp_path)
    ws.save(detection=DetectionParts(name="LVIS val 100", gt=FileRef.of(gt),
                                     extra={"train_frequencies": FileRef.of(cats)}))
    back = W.open(ws.path).detection
    ref = build_detection_dataset(gt, train_frequencies=cats)
    assert np.array_equal(back.classes.train_count, ref.classes.train_count)
    assert back.classes.frequency is not None and (back.classes.frequency == ref.classes.frequency).all()
    assert back.parts.extra["train_frequencies"].name == "lvis_v0_5_categories.csv"
