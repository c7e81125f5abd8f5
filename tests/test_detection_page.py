"""The Detection page runs on the demo and shows a clear error for bad files (Streamlit AppTest)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
st_testing = pytest.importorskip("streamlit.testing.v1")


def _app():
    at = st_testing.AppTest.from_file(str(ROOT / "pages" / "4_Detection.py"), default_timeout=240)
    return at


def test_page_on_demo_answers_first_and_errors_are_messages(tmp_path):
    at = _app().run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert labels[:5] == ["AP", "APr (rare)", "APc (common)", "APf (frequent)", "rare classes at AP 0"]
    assert all(m.value not in ("", None) for m in at.metric[:5])
    assert any("generated" in i.value.lower() for i in at.info)
    # a results file that is not JSON, given by path: a message naming the file, no traceback
    bad = tmp_path / "bad_results.json"
    bad.write_text("not json")
    at.radio(key="det_src").set_value("Local path").run()
    at.text_input(key="det_gt_path").set_value(str(ROOT / "tests/data/coco_val2014_100/instances_val2014_100.json.gz"))
    at.text_area(key="det_dt_paths").set_value(str(bad)).run()
    at.button(key="det_load").click().run()
    assert not at.exception
    assert any("bad_results.json" in e.value for e in at.error)


def test_page_with_coco_files_and_two_results(tmp_path):
    import gzip
    import json
    d = ROOT / "tests/data/coco_val2014_100"
    dets = json.loads(gzip.decompress((d / "instances_val2014_fakebbox100_results.json.gz").read_bytes()))
    a, b = tmp_path / "detA.json", tmp_path / "detB.json"
    a.write_text(json.dumps(dets))
    b.write_text(json.dumps([dict(x, score=x["score"] * 0.5 + (0.5 if x["category_id"] == 1 else 0)) for x in dets]))
    at = _app().run()
    at.radio(key="det_src").set_value("Local path").run()
    at.text_input(key="det_gt_path").set_value(str(d / "instances_val2014_100.json.gz"))
    at.text_area(key="det_dt_paths").set_value(f"{a}\n{b}").run()
    at.button(key="det_load").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    assert labels[0] == "AP" and "APr (rare)" not in labels  # COCO: no LVIS frequency groups
    assert at.metric[0].value == "50.5"  # per-class monotone rescoring keeps every AP (cocoapi: 0.505)
    assert any("no train counts" in c.value for c in at.caption)
