"""The app's error display: one line that names the file, the field and what was expected.

:func:`show_error` is what every page calls in its ``except``; :func:`page_boundary` wraps the page
run in ``app.py`` so that an exception no page caught still becomes one line (plus "please
report" when it is a bug), never a traceback (``client.showErrorDetails`` is off as well).

The text comes from :class:`~lt_core.errors.InputError` (file, field, expectation, hint) rewritten
for a GUI user: the temporary path of an upload becomes the name of the file the user uploaded,
command-line flags in hints become words (``use --iou-type bbox`` -> ``choose the IoU type
"bbox"``), and nothing of a file's content is shown for unexpected errors.
"""
from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from lt_core.errors import InputError

__all__ = ["message", "show_error", "page_boundary", "gui_text", "REPORT"]

_LOG = logging.getLogger("tailscope.app")
REPORT = "this is a Tailscope bug: please report it (what you did and the files' formats) on the issue tracker"

#: command-line option -> what the same setting is called in the app
_FLAG_WORDS = {
    "--iou-type": "the IoU type", "--style": "the evaluation style", "--max-dets": "the detections per image",
    "--pseudo-count": "the pseudo-count", "--bins": "the bin scheme", "--tau": "τ", "--taus": "the τ grid",
    "--tune-on": "the validation split to tune on", "--objective": "the objective", "--max-head-drop":
    "the allowed head-bin drop", "--labels": "the labels file", "--preds": "the scores file",
    "--train-labels": "the train labels file", "--train-counts": "the train counts file",
    "--val-labels": "the validation labels file", "--test-labels": "the test labels file",
    "--train-features": "the train features file", "--val-features": "the validation features file",
    "--test-features": "the test features file", "--features": "the features file",
    "--classifier": "the classifier weights file", "--gt": "the ground-truth file", "--dt": "the results file",
    "--out": "the output", "--export": "the export", "--frequency": "the frequency source",
    "--n-train-images": "the number of training images", "--threshold": "the threshold", "--seed": "the seed",
    "--k-neighbors": "the number of neighbours", "--sampling-strategy": "the sampling strategy",
    "--beta": "β", "--gamma": "γ", "--epochs": "the epochs", "--hidden": "the hidden width",
    "--method": "the method", "--loss": "the loss", "--model": "the head model", "--device": "the device",
    "--num-samples": "the epoch length", "--target": "the target per class", "--strategy": "the strategy",
    "--lr": "the learning rate", "--batch-size": "the batch size", "--bootstrap": "the bootstrap resamples",
    "--tau-norm": "the τ of τ-norm", "--smote": "SMOTE", "--smote-k": "the SMOTE neighbours",
}
#: option values that may follow a flag in a message (anything else after a flag is prose)
_CHOICES = ("bbox|segm|lvis|coco|cpu|cuda|auto|linear|mlp|crt|joint|lws|tau-norm|ncm|annotations|image_count|"
            "imagenet-lt|quantile:\\d+|custom:[\\d,]+|safetensors|torch|[-+]?\\d+(?:\\.\\d+)?")
_VAL = rf"(?:[ =]({_CHOICES})(?![\w-]))?"
_FLAG_RE = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)" + _VAL)
_CLI_TAIL_RE = re.compile(r"\s*\(see python -m lt_core[^)]*\)|\s*\(?TAILSCOPE_DEBUG=1[^)]*\)?")


def _flag_words(flag: str) -> str:
    return _FLAG_WORDS.get(flag, "the setting '" + flag.lstrip("-").replace("-", " ") + "'")


def gui_text(text: str) -> str:
    """Rewrite command-line wording for the app: ``use --iou-type bbox`` -> ``choose the IoU type
    "bbox"``, ``pass --pseudo-count 1`` -> ``set the pseudo-count to 1``, other ``--flag`` -> words."""
    text = _CLI_TAIL_RE.sub("", text)
    text = re.sub(r"set TAILSCOPE_MAX_FILE_BYTES to raise it(?: \(e\.g\. [^)]*\))?",
                  "ask whoever runs the app to raise TAILSCOPE_MAX_FILE_BYTES", text)

    text = re.sub(r"\b(use|choose)\s+(--[a-z][a-z0-9-]*)" + _VAL,
                  lambda m: f"choose {_flag_words(m.group(2))}" + (f' "{m.group(3)}"' if m.group(3) else ""), text)
    text = re.sub(r"\b(pass|set|give)\s+(--[a-z][a-z0-9-]*)" + _VAL,
                  lambda m: f"set {_flag_words(m.group(2))}" + (f" to {m.group(3)}" if m.group(3) else ""), text)

    def other(m: re.Match) -> str:
        flag, val = m.group(1), m.group(2)
        return _flag_words(flag) + (f' "{val}"' if val else "")

    text = _FLAG_RE.sub(other, text)
    text = text.replace("field 'the ", "field '").replace("argument the ", "")  # short field names
    return " ".join(text.split())


def _upload_names(text: str) -> str:
    try:
        from ui.files import display_paths
    except Exception:  # pragma: no cover - the module is part of the app
        return text
    for path, shown in sorted(display_paths().items(), key=lambda kv: -len(kv[0])):
        text = text.replace(path, shown)
    return text


def message(err: BaseException, what: str = "") -> tuple[str, bool]:
    """(one line for the user, is it a bug?) for an exception caught by a page."""
    head = f"{what}: " if what else ""
    if isinstance(err, InputError):  # never the file's content (the excerpt): the browser is not the file's owner
        return head + gui_text(_upload_names(err.describe(excerpt=False))), False
    if isinstance(err, MemoryError):
        return head + "out of memory: the input is larger than this machine can hold (shard it, or use a machine " \
                      "with more memory)", False
    if isinstance(err, OSError):
        from lt_core.io import user_path

        name = _upload_names(user_path(err.filename)) if getattr(err, "filename", None) else ""
        return head + (f"{name}: " if name else "") + (err.strerror or type(err).__name__), False
    # anything else is a bug: its type, never its text (it may quote a file's content)
    return f"{head}unexpected {type(err).__name__} — {REPORT}", True


def show_error(err: BaseException, what: str = "") -> None:
    """Show an error as one line (``st.error``), never a traceback; bugs are logged for the operator."""
    text, bug = message(err, what)
    if bug:
        _LOG.error("unexpected error in %s", what or "the app", exc_info=err)
    st.error(text, icon=":material/error:")


@contextmanager
def page_boundary(what: str = "") -> Iterator[None]:
    """Run a page (``with page_boundary(): nav.run()``): any exception becomes one line.

    Streamlit's own control flow (``st.rerun``, ``st.stop``) passes through: it derives from
    ``BaseException``, not ``Exception``.
    """
    try:
        yield
    except Exception as e:  # noqa: BLE001 - the boundary
        show_error(e, what)
