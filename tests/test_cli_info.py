"""`python -m lt_core info` on the real files, and bad input exits 2 with a message."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lt_core.cli import main


def _info(*paths, capsys):
    rc = main(["info", "--json", *map(str, paths)])
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_info_real_files(data_dir, capsys):
    rc, out, err = _info(data_dir / "imagenet_lt/ImageNet_LT_class_counts.csv",
                         data_dir / "imagenet_lt/ImageNet_LT_test.txt.gz",
                         data_dir / "places_lt/Places_LT_train.txt.gz",
                         data_dir / "coco_val2014_100/instances_val2014_100.json.gz",
                         data_dir / "coco_val2014_100/instances_val2014_fakebbox100_results.json.gz",
                         data_dir / "lvis_v0_5_val_100/lvis_val_100.json.gz", capsys=capsys)
    assert rc == 0, err
    counts, test, places, coco, res, lvis = out
    assert counts["classes"] == 1000 and counts["total_count"] == 115846 and counts["imbalance_ratio"] == 256
    assert counts["bins"] == {"many": 385, "medium": 479, "few": 136}
    assert test["samples"] == 50000 and test["splits"] == {"test": 50000} and test["imbalance_ratio"] == 1
    assert places["classes"] == 365 and places["imbalance_ratio"] == 996 and places["bins"] == {
        "many": 131, "medium": 163, "few": 71}
    assert coco["kind"].startswith("COCO") and coco["images"] == 100 and coco["annotations"] == 839 and coco["crowd"] == 9
    assert res["detections"] == 734 and res["checked_against_gt"] is True
    assert lvis["kind"].startswith("LVIS") and lvis["frequency_field"] == {"r": 454, "c": 461, "f": 315}


def test_info_lvis_v1_profile(root_dir, capsys):
    rc, (d,), _ = _info(root_dir / "lt_core/assets/lvis_v1_categories.csv", capsys=capsys)
    assert rc == 0 and d["classes"] == 1203 and d["imbalance_ratio"] == 1977
    assert d["bins"] == {"frequent": 405, "common": 461, "rare": 337}


@pytest.mark.parametrize("content,name", [(b"", "empty.csv"), (b'{"images": [', "trunc.json"),
                                          (b"\x00\x01garbage", "x.npy")])
def test_info_bad_file_exits_2_with_message(tmp_path, content, name):
    p = tmp_path / name
    p.write_bytes(content)
    r = subprocess.run([sys.executable, "-m", "lt_core", "info", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and str(p) in r.stderr and "Traceback" not in r.stderr


def test_help_lists_subcommands():
    r = subprocess.run([sys.executable, "-m", "lt_core", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "info" in r.stdout
