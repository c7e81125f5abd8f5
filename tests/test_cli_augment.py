"""``python -m lt_core augment copy-paste ...``: the output folder contract, the rebalance exports as targets,
bad input exits 2 with one line, the input dataset is untouched."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lt_core.cli import main
from lt_core.data.scenes import make_scenes

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli_aug")
    gt = make_scenes(base / "d", 10, height=80, width=112, seed=2, tail_class_images=1)
    return gt, gt.parent / "images"


def _hashes(folder: Path) -> dict:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


def test_copy_paste_writes_the_folder(data, tmp_path, capsys):
    gt, images = data
    before = _hashes(gt.parent)
    out = tmp_path / "aug"
    rc = main(["augment", "copy-paste", "--gt", str(gt), "--images", str(images), "--target", "rfs:0.5",
               "--out", str(out), "--seed", "0", "--bins", "quantile:3", "--workers", "1"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "objects pasted onto" in printed and "seed 0" in printed and "instances per bin" in printed
    assert (out / "images").is_dir() and (out / "annotations.json").is_file() and (out / "manifest.json").is_file()
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 0 and man["config"]["target"] == "rfs:0.5" and man["pastes"]
    p = man["pastes"][0]
    assert {"source_annotation_id", "source_image_id", "target_image_id", "transform", "blend"} <= set(p)
    assert set(p["transform"]) == {"crop", "scale", "size", "flip", "offset"}
    assert _hashes(gt.parent) == before
    # the same command again replaces the earlier output (marked as Tailscope's) with the same bytes
    h1 = _hashes(out)
    assert main(["augment", "copy-paste", "--gt", str(gt), "--images", str(images), "--target", "rfs:0.5",
                 "--out", str(out), "--seed", "0", "--bins", "quantile:3", "--workers", "1"]) == 0
    assert _hashes(out) == h1


def test_box_only_poisson_and_a_weights_export(data, tmp_path):
    gt, images = data
    w = tmp_path / "w.json"
    assert main(["rebalance", "weights", "--train-labels", str(ROOT / "tests/data/imagenet_lt/ImageNet_LT_test.txt.gz"),
                 "--out", str(w)]) == 0  # a weights file of another dataset: ids 0..999 are not this GT's
    rc = main(["augment", "copy-paste", "--gt", str(gt), "--images", str(images), "--target", str(w),
               "--out", str(tmp_path / "o"), "--box-only", "--blend", "poisson"])
    assert rc == 2
    counts = tmp_path / "counts.csv"
    counts.write_text("category_id,add\n1,2\n3,1\n")
    rc = main(["augment", "copy-paste", "--gt", str(gt), "--images", str(images), "--target", str(counts),
               "--out", str(tmp_path / "o"), "--box-only", "--blend", "poisson", "--workers", "1"])
    assert rc == 0
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert sorted(p["category_id"] for p in man["pastes"]) == [1, 1, 3]
    assert {p["mode"] for p in man["pastes"]} == {"box"} and {p["blend"] for p in man["pastes"]} == {"poisson"}


@pytest.mark.parametrize("args, msg", [
    (["--target", "rfs:abc"], "not a number"),
    (["--target", "bogus.csv"], "neither rfs:T"),
    (["--images", "/nonexistent/folder"], "no such image folder"),
    (["--gt", "/nonexistent/gt.json"], "no such"),
    (["--max-pastes-per-image", "0"], "at least one paste"),
    (["--scale-range", "2"], "LO,HI"),
    (["--blend", "magic"], "invalid choice"),
    (["--size-limits", "0.5,2"], "size limits"),
])
def test_bad_input_exits_2_with_one_line(data, tmp_path, capsys, args, msg):
    gt, images = data
    base = {"--gt": str(gt), "--images": str(images), "--target": "rfs:0.5", "--out": str(tmp_path / "o")}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v
    argv = ["augment", "copy-paste"] + [x for kv in base.items() for x in kv]
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse usage errors
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_bad_input_in_a_real_process(data, tmp_path):
    gt, images = data
    argv = [sys.executable, "-m", "lt_core", "augment", "copy-paste", "--gt", str(gt), "--images", str(images),
            "--target", "effective-number:1.5", "--out", str(tmp_path / "o")]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"})
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "beta must be" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_output_over_the_input_is_refused(data, tmp_path, capsys):
    gt, images = data
    assert main(["augment", "copy-paste", "--gt", str(gt), "--images", str(images), "--target", "rfs:0.5",
                 "--out", str(gt.parent)]) == 2
    assert "holds the input" in capsys.readouterr().err
    assert main(["augment", "copy-paste", "--gt", str(gt), "--images", str(images), "--target", "rfs:0.5",
                 "--out", str(images / "x")]) == 2
    err = capsys.readouterr().err  # the output guard refuses any output inside an input folder, first
    assert "inside the image folder" in err or "inside the input folder given as --images" in err


def test_help_lists_augment(capsys):
    assert main(["--help"]) == 0   # main returns argparse's exit code in-process (no SystemExit)
    assert "augment" in capsys.readouterr().out
    assert main(["augment", "copy-paste", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(k in out for k in ("--gt", "--images", "--target", "--out", "--seed", "--box-only", "--blend", "--workers"))
