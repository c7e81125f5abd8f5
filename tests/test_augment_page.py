"""The Augment page through streamlit.testing: the photo demo's numbers come from lt_core, the preview
shows pasted images, the scenes demo writes a dataset in the background (progress, then the files)."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from apptest_utils import APP, run_clean, top_metrics
from lt_core.augment import CopyPasteConfig, photo_demo, planned_distribution, prepare_copy_paste


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("pages/8_Augment.py")
    return run_clean(at)


def test_photo_demo_answer_matches_lt_core(page):
    gt, root = photo_demo()
    prep = prepare_copy_paste(gt, root, CopyPasteConfig(target="effective-number:0.9", seed=0, bins="custom:2,3",
                                                        max_pastes_per_image=5))
    dist, per_bin = planned_distribution(prep)
    m = top_metrics(page)
    assert m["Objects to paste"][0] == f"{int(prep.plan.planned.sum()):,}"
    few = per_bin.set_index("bin").loc["few"]
    assert m["few instances"][0] == f"{int(few.instances_before):,} → {int(few.instances_planned):,}"
    assert any("segmentation-derived masks" in c.value for c in page.caption)
    assert len(page.get("image")) == 4  # the preview images
    assert any("pasted" in c.value for c in page.caption)


def test_seed_is_shown_and_changes_the_preview(page):
    assert any("seed **0**" in c.value for c in page.caption)
    first = [c.value for c in page.caption if c.value.startswith("**coins")]
    page.number_input(key="aug_seed").set_value(3)
    run_clean(page)
    assert any("seed **3**" in c.value for c in page.caption)
    assert [c.value for c in page.caption if c.value.startswith("**coins")] != first
    page.number_input(key="aug_seed").set_value(0)
    run_clean(page)


def test_scenes_demo_previews_and_writes(page, tmp_path):
    page.radio(key="aug_source").set_value("scenes")
    run_clean(page)
    assert any("Generated data" in c.value for c in page.caption)
    out = tmp_path / "written"
    page.text_input(key="aug_out").set_value(str(out))
    page.number_input(key="aug_workers").set_value(1)
    page.button(key="aug_go").click()
    run_clean(page)
    job = page.session_state["aug_job"]
    job.wait(120)
    assert job.status == "done", job.message()
    run_clean(page)
    assert any("objects pasted onto" in s.value for s in page.success)
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 0 and man["pastes"] and (out / "annotations.json").is_file()
    assert len(list((out / "images").rglob("*.png"))) == man["input"]["n_images"]


def test_own_paths_with_a_bad_folder_show_an_error(page, tmp_path):
    page.radio(key="aug_source").set_value("mine")
    run_clean(page)
    assert any("Give the paths" in i.value for i in page.info)
    gt, _ = photo_demo()
    page.text_input(key="aug_gt_path").set_value(str(gt))
    page.text_input(key="aug_root").set_value(str(tmp_path))
    run_clean(page)
    assert any("have no file under the image root" in e.value for e in page.error)
