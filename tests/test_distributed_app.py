"""The Metrics page's 'Run on Dask' option: local:2 gives the same numbers as the page in process."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

pytest.importorskip("distributed")

from apptest_utils import run_clean  # noqa: E402
from lt_core.data import build_classification_dataset  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "3_Metrics.py")


@pytest.mark.slow
def test_metrics_page_run_on_dask_equals_in_process(tmp_path, data_dir):
    counts = data_dir / "imagenet_lt" / "ImageNet_LT_class_counts.csv"
    with gzip.open(data_dir / "imagenet_lt" / "ImageNet_LT_test.txt.gz", "rt") as fh:
        rows = [ln.split() for ln in fh if ln.strip()]
    keep = np.random.default_rng(0).choice(len(rows), 3000, replace=False)
    (tmp_path / "test.txt").write_text("".join(f"{rows[i][0]} {rows[i][1]}\n" for i in keep))
    y = np.array([int(rows[i][1]) for i in keep])
    rng = np.random.default_rng(1)
    S = rng.standard_normal((len(y), 1000)).astype(np.float32)
    S[np.arange(len(y)), y] += 2.0
    np.save(tmp_path / "scores.npy", S)
    ds = build_classification_dataset(train_counts=counts, test_labels=tmp_path / "test.txt",
                                      runs={"resnet": {"test": tmp_path / "scores.npy"}}, name="ImageNet-LT shaped")

    def page():
        at = AppTest.from_file(PAGE, default_timeout=300)
        at.session_state["ts_cls_dataset"] = ds
        at.session_state["ts_bins"] = "imagenet-lt"
        at.session_state["m_boot"] = 200
        return at

    at = run_clean(page())
    here = {m.label: (m.value, m.delta) for m in at.metric}
    tables = [d.value.to_csv() for d in at.dataframe]
    at2 = page()
    at2.session_state["m_dask"] = "local:2"
    try:
        run_clean(at2)
        assert any("Computing on Dask: local:2" in c.value for c in at2.caption)
        assert {m.label: (m.value, m.delta) for m in at2.metric} == here
        assert [d.value.to_csv() for d in at2.dataframe] == tables
        from ui import dask_run

        assert dask_run._OPEN  # a LocalCluster was really started and used
        at2.session_state["m_dask"] = "tcp://nowhere"
        run_clean(at2)
        assert any("neither local:N nor a scheduler address" in e.value for e in at2.error)
    finally:
        from ui.dask_run import shutdown

        shutdown()


@pytest.mark.slow
def test_detection_page_run_on_dask_equals_in_process():
    pytest.importorskip("lt_core.detection.bootstrap")  # the Detection page of issue 14
    d = ROOT / "tests" / "data" / "coco_val2014_100"

    def page():
        at = AppTest.from_file(str(ROOT / "pages" / "4_Detection.py"), default_timeout=300)
        at.run()
        at.radio(key="det_src").set_value("Local path").run()
        at.text_input(key="det_gt_path").set_value(str(d / "instances_val2014_100.json.gz"))
        at.text_area(key="det_dt_paths").set_value(str(d / "instances_val2014_fakebbox100_results.json.gz")).run()
        at.button(key="det_load").click().run()
        assert not at.exception, at.exception
        return at

    at = page()
    here = [(m.label, m.value) for m in at.metric]
    tables = [t.value.to_csv() for t in at.dataframe]
    assert here and here[0] == ("AP", "50.5")  # cocoapi: 0.505
    at.text_input(key="det_dask").set_value("local:2").run()
    try:
        assert not at.exception, at.exception
        assert any("Computing on Dask: local:2" in c.value for c in at.caption)
        from ui import dask_run

        assert dask_run._OPEN
        assert [(m.label, m.value) for m in at.metric] == here
        assert [t.value.to_csv() for t in at.dataframe] == tables
    finally:
        from ui.dask_run import shutdown

        shutdown()
