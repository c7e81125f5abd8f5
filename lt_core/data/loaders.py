"""Loaders: the formats users actually have -> validated schema objects.

Every loader validates once and raises :class:`~lt_core.errors.InputError` naming the file, the
field and what was expected. Files are only ever opened for reading; nothing is unpickled
(``np.load(..., allow_pickle=False)``, ``torch.load(..., weights_only=True)``).

Formats
-------
labels       CSV / TSV / Parquet with a label column (class name or id) and optional id and split
             columns; ImageNet-LT style text lists (``relative/path.jpg label`` per line, ``.gz`` ok);
             GoEmotions-style headerless TSV (``text <TAB> ids <TAB> comment_id``); an image-folder
             tree (one sub-folder per class; files are listed, never read). Multi-label targets
             (indicator matrices, ``"a,b"`` cells, list columns, GoEmotions rows with several
             emotions, COCO / LVIS GT as image-level labels) are read by
             :mod:`lt_core.data.multilabel`; a single-label load that meets them stops with the
             choices (``multi_label``), never coercing silently.
counts       CSV with ``class_id,count[,name]`` (also ImageNet-LT / Places-LT ``*_class_counts.csv``,
             LVIS category CSV with ``image_count``).
predictions  ``.npy`` / ``.npz`` (N x C scores or N predicted ids), Parquet / CSV (wide score columns
             or one predicted-label column), aligned by order or by sample id.
features     ``.npy`` / ``.npz`` / Parquet (N x D).
classifier   torch state_dict (``weights_only=True``), ``.safetensors`` or ``.npz`` with W (C x D), b (C).
detection    COCO / LVIS ground-truth JSON (``.json.gz`` ok), COCO results JSON.
"""
from __future__ import annotations

import gzip
import io
import os
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np


class _LazyPandas:
    """``pandas``, imported on first use (the detection loaders never need it)."""

    def __getattr__(self, name):
        import pandas

        globals()["pd"] = pandas
        return getattr(pandas, name)


pd = _LazyPandas()

from ..errors import InputError
from .names import display_name, file_name, shown_as
from .schema import (SPLITS, ClassifierWeights, ClassTable, DetectionGT, DetectionResults, Features, Labels,
                     Predictions)

__all__ = [
    "load_labels", "load_label_splits", "load_train_counts", "load_class_names", "load_predictions",
    "load_features", "load_classifier", "load_detection_gt", "load_detection_results", "read_json",
    "sniff", "MAX_FILE_BYTES", "max_file_bytes", "format_bytes", "shown_as",
]

#: Largest input file accepted (bytes), unless ``TAILSCOPE_MAX_FILE_BYTES`` says otherwise (see
#: :func:`max_file_bytes`). Larger files are refused with a message, not an out-of-memory crash.
MAX_FILE_BYTES = 8 * 1024**3
MAX_FILE_ENV = "TAILSCOPE_MAX_FILE_BYTES"
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4, "tb": 1000**4, "tib": 1024**4}
#: without a class table, integer labels are class indices 0..max: at most this many classes,
#: or 4 x the distinct ids of the file if more (a class id of 10**11 must not allocate 745 GiB)
MAX_DENSE_CLASSES = 4096


def max_file_bytes() -> int:
    """The input size limit: ``TAILSCOPE_MAX_FILE_BYTES`` (bytes, or with a unit: ``500MB``, ``8GiB``)
    when set, else :data:`MAX_FILE_BYTES` (8 GiB)."""
    raw = os.environ.get(MAX_FILE_ENV)
    if raw is None or not raw.strip():
        return int(MAX_FILE_BYTES)
    m = re.fullmatch(r"\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", raw)
    unit = m.group(2).lower() if m else None
    if not m or unit not in _UNITS:
        raise InputError(f"is {raw!r}: expected a size in bytes, e.g. 8000000000, 500MB or 8GiB", MAX_FILE_ENV,
                         hint="fix or unset the environment variable")
    return max(1, int(float(m.group(1).replace("_", "")) * _UNITS[unit]))


def format_bytes(n: int) -> str:
    """A byte count for messages: ``999 bytes``, ``1.5 KiB``, ``8.0 GiB``."""
    n = int(n)
    if n < 1024:
        return f"{n:,} byte{'s' if n != 1 else ''}"
    for unit, k in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= k:
            return f"{n / k:,.1f} {unit}"
    return f"{n:,} bytes"  # pragma: no cover


_LABEL_COLS = ("label", "labels", "class", "class_id", "class_name", "category", "category_id", "target", "y",
               "label_id", "gt", "true")
_PRED_COLS = ("pred", "prediction", "predicted", "pred_label", "predicted_label", "y_pred", "label", "class")
_ID_COLS = ("id", "sample_id", "sample", "image_id", "image", "path", "file", "filename", "file_name", "uid")
#: a label table's text column (kept as the samples' content, never used as a feature), first match wins
_TEXT_COLS = ("text", "sentence", "comment", "comment_text", "body", "utterance")
_SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
                  "dev": "val", "test": "test", "testing": "test"}
_IMG_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".npy"}


# ----------------------------------------------------------------------------------------------
# file level helpers
# ----------------------------------------------------------------------------------------------
def _name(path) -> str:
    return display_name(path)


def _file_name(path) -> str:
    return file_name(path)


def _check_file(path, what: str = "file") -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such {what}", _name(p))
    if p.is_dir():
        raise InputError(f"expected a {what}, got a folder", _name(p))
    st = p.stat()
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"is not a regular file (a device, pipe or socket); expected a {what}", _name(p))
    size = st.st_size
    if size == 0:
        raise InputError("the file is empty", _name(p), hint=f"expected a {what}")
    limit = max_file_bytes()
    if size > limit:
        a, b = format_bytes(size), format_bytes(limit)
        if a == b:
            a, b = f"{size:,} bytes", f"{limit:,} bytes"
        raise InputError(f"the file is {a}, above the {b} limit", _name(p), "size",
                         hint=f"set {MAX_FILE_ENV} to raise it (e.g. 16GiB), or shard the file")
    return p


def _head(p: Path, n: int = 8) -> bytes:
    with open(p, "rb") as fh:
        return fh.read(n)


def _suffixes(p: Path) -> list[str]:
    """Lower-case suffixes of the file's name as the user knows it (an upload's temp name may have none)."""
    return [s.lower() for s in Path(_file_name(p)).suffixes]


def _base_ext(p: Path) -> str:
    sfx = _suffixes(p)
    if sfx and sfx[-1] == ".gz":
        return sfx[-2] if len(sfx) > 1 else ""
    return sfx[-1] if sfx else ""


def _read_bytes(p: Path) -> bytes:
    raw = p.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise InputError(f"the gzip stream is corrupt or truncated ({e})", _name(p))
        if not raw:
            raise InputError("the file is empty (after gunzip)", _name(p))
    elif _suffixes(p)[-1:] == [".gz"]:
        raise InputError("the name ends in .gz but the file is not gzip-compressed", _name(p))
    return raw


def _read_text(p: Path) -> str:
    raw = _read_bytes(p)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("the file is not UTF-8 text", _name(p),
                         hint="is it a binary file (npy, parquet, zip) with a text extension?")


def read_json(path) -> Any:
    """Parse a JSON or JSON.gz file (orjson when available), with clear errors for bad JSON."""
    p = _check_file(path, "JSON file")
    raw = _read_bytes(p)
    if raw.lstrip()[:1] not in (b"{", b"["):
        kind = sniff(p)
        raise InputError(f"not JSON (the file looks like {kind})", _name(p), hint="expected a COCO/LVIS JSON file")
    try:
        import orjson

        return orjson.loads(raw)
    except ImportError:  # pragma: no cover - orjson is a pinned requirement
        import json

        try:
            return json.loads(raw)
        except json.JSONDecodeError as e:
            raise InputError(f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}", _name(p))
    except ValueError as e:  # orjson.JSONDecodeError subclasses ValueError
        msg = str(e)
        trunc = " (the file looks truncated)" if "EOF" in msg or "unexpected end" in msg.lower() else ""
        raise InputError(f"invalid JSON{trunc}: {msg}", _name(p))


def sniff(path) -> str:
    """Guess what a file is from its first bytes: 'npy', 'zip (npz or torch)', 'parquet', 'gzip', 'pickle',
    'json', 'text', 'binary'."""
    p = Path(path)
    if p.is_dir():
        return "folder"
    h = _head(p, 8)
    if h.startswith(b"\x93NUMPY"):
        return "npy"
    if h.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # a zip (an empty one starts with its directory end)
        return "zip (npz or torch)"
    if h.startswith(b"PAR1"):
        return "parquet"
    if h.startswith(b"\x1f\x8b"):
        return "gzip"
    if len(h) > 1 and h[0] == 0x80 and 2 <= h[1] <= 5:
        return "pickle"
    if h.lstrip()[:1] in (b"{", b"["):
        return "json"
    head = _head(p, 4096)
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError as e:
        # a multi-byte character cut by the 4096-byte window is still text
        return "text" if len(head) == 4096 and e.start >= 4092 and b"\x00" not in head else "binary"


def _read_table(p: Path) -> pd.DataFrame:
    """CSV / TSV / Parquet (by extension, checked against the content) -> DataFrame of strings/numbers."""
    ext = _base_ext(p)
    kind = sniff(p)
    if ext == ".parquet" or kind == "parquet":
        if kind != "parquet":
            raise InputError(f"the name says Parquet but the content looks like {kind}", _name(p))
        try:
            return pd.read_parquet(p)
        except Exception as e:  # pyarrow raises many types
            raise InputError(f"cannot read Parquet: {e}", _name(p))
    if kind in ("npy", "zip (npz or torch)", "binary", "pickle"):
        raise InputError(f"expected a text table (CSV/TSV), the content looks like {kind}", _name(p))
    text = _read_text(p)
    if not text.strip():
        raise InputError("the file has no rows", _name(p))
    sep = "\t" if (ext in (".tsv", ".tab") or text.split("\n", 1)[0].count("\t") > 0) else ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"cannot parse as {'TSV' if sep == chr(9) else 'CSV'}: {e}", _name(p))
    if df.empty:
        raise InputError("the table has a header but no rows", _name(p))
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _find_col(df: pd.DataFrame, candidates, explicit: str | None, p: Path, what: str) -> str | None:
    if explicit:
        if explicit not in df.columns:
            raise InputError(f"no column '{explicit}' (columns: {list(df.columns)[:12]})", _name(p), explicit)
        return explicit
    low = {c.lower(): c for c in df.columns}
    for c in candidates:
        if c in low:
            return low[c]
    return None


_INT_RE = r"[+-]?\d+"
_FLOAT_RE = r"[+-]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+|nan|NaN|inf|Inf|-inf)"
_I64 = np.iinfo(np.int64)


def _row_of(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _as_int_array(values, p, field: str, what: str = "class ids") -> np.ndarray | None:
    """Integers if every value is an integer (a number column or integer literals), else None (names).

    Never coerces: a float column or float literals (``3.0``, ``1e3``), booleans, and integers beyond
    the 64-bit range raise :class:`InputError` naming the row; a column of other text returns None.
    """
    s = pd.Series(values)
    if s.empty:
        return np.zeros(0, np.int64)
    if pd.api.types.is_bool_dtype(s):
        raise InputError(f"{what} must be integers, got true/false values", _name(p), field,
                         hint="store them as integers (0, 1, ...) or as names")
    if pd.api.types.is_integer_dtype(s):
        v = s.to_numpy()
        if v.dtype.kind == "u" and v.size and int(v.max()) > _I64.max:
            raise InputError(f"{what} beyond the 64-bit integer range (row {_row_of(v > _I64.max) + 1})", _name(p),
                             field)
        return v.astype(np.int64)
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(v) | (v != np.round(v))
        i = _row_of(bad) if bad.any() else 0
        raise InputError(f"{what} must be integers, got floating-point values (row {i + 1}: {float(v[i])!r})", _name(p),
                         field, hint="write them as integers (no decimal point)")
    nested = s.map(lambda x: isinstance(x, (list, tuple, dict, np.ndarray))).to_numpy()
    if nested.any():
        i = _row_of(nested)
        kind = "an object" if isinstance(s.iloc[i], dict) else "a list"
        raise InputError(f"{what} must be single values, got {kind} in row {i + 1}", _name(p), field,
                         hint="one class per row (multi-label rows are not class ids)")
    if s.map(lambda x: isinstance(x, (bool, np.bool_))).any():
        i = _row_of(s.map(lambda x: isinstance(x, (bool, np.bool_))).to_numpy())
        raise InputError(f"{what} must be integers, got true/false (row {i + 1})", _name(p), field)
    st = s.astype(str).str.strip()
    is_int = st.str.fullmatch(_INT_RE)
    if is_int.all():
        big = st.str.lstrip("+-").str.len() >= 19
        if big.any():
            for i in np.flatnonzero(big.to_numpy()):
                v = int(st.iloc[i])
                if not (_I64.min <= v <= _I64.max):
                    raise InputError(f"{what} beyond the 64-bit integer range (row {i + 1}: {st.iloc[i][:30]})",
                                     _name(p), field)
        return st.astype(np.int64).to_numpy()
    is_num = is_int | st.str.fullmatch(_FLOAT_RE)
    if is_num.all():
        i = _row_of(~is_int.to_numpy())
        raise InputError(f"{what} must be integers, got '{st.iloc[i][:30]}' (row {i + 1})", _name(p), field,
                         hint="write them as integers (no decimal point)")
    return None


def _int_column(values, p, field: str, what: str, hint: str | None = None) -> np.ndarray:
    """:func:`_as_int_array` for a column that must be integers (text is an error naming the row)."""
    v = _as_int_array(values, p, field, what)
    if v is None:
        st = pd.Series(values).astype(str).str.strip()
        bad = ~st.str.fullmatch(_INT_RE).to_numpy()
        i = _row_of(bad)
        shown = st.iloc[i][:30] or "(empty)"
        raise InputError(f"{what} must be whole numbers, got '{shown}' (row {i + 1})", _name(p), field, hint=hint)
    return v


def _normalise_split(v: str, p: Path) -> str:
    key = str(v).strip().lower()
    if key not in _SPLIT_ALIASES:
        raise InputError(f"unknown split '{v}'", _name(p), "split", hint="expected train, val or test")
    return _SPLIT_ALIASES[key]


# ----------------------------------------------------------------------------------------------
# labels
# ----------------------------------------------------------------------------------------------
def _labels_to_index(raw, classes: ClassTable | None, p: Path, field: str):
    """Raw label values -> (class indices, ClassTable built or given).

    Integer labels are class ids (without a class table: the classes 0..max id, at most
    ``max(MAX_DENSE_CLASSES, 4 x distinct ids)`` of them); other text labels are class names.
    Floats, booleans and integers beyond 64 bits are refused, never truncated.
    """
    try:
        ints = _as_int_array(raw, p, field)
    except InputError:
        names = pd.Series(raw).astype(str).str.strip()
        if classes is not None and names.isin(set(classes.names)).all():
            return classes.index_of_names(names, _name(p), field), classes  # names that look like numbers
        raise
    if ints is not None:
        if classes is None:
            if ints.size and ints.min() < 0:
                i = _row_of(ints < 0)
                raise InputError(f"negative class ids ({int((ints < 0).sum())} rows, first in row {i + 1}: "
                                 f"{int(ints[i])})", _name(p), field,
                                 hint="integer labels are class indices 0, 1, ...; give a counts file "
                                      "(class_id,count) to use other ids")
            c = int(ints.max()) + 1
            n_ids = int(np.unique(ints).size)
            bound = max(MAX_DENSE_CLASSES, 4 * n_ids)
            if c > bound:
                raise InputError(f"class ids go up to {c - 1:,} but the file uses only {n_ids:,} distinct ids; "
                                 f"integer labels are read as class indices 0..max id, which would make {c:,} "
                                 f"classes (at most {bound:,} here)", _name(p), field,
                                 hint="give a counts file (class_id,count[,name]) that lists the classes, "
                                      "or use class names")
            classes = ClassTable(np.arange(c), [str(i) for i in range(c)], np.zeros(c, np.int64), source=_name(p))
        return classes.index_of(ints, _name(p), field), classes
    names = pd.Series(raw).astype(str).str.strip()
    if (names == "").any():
        raise InputError(f"{int((names == '').sum())} rows have an empty label (first in row "
                         f"{_row_of((names == '').to_numpy()) + 1})", _name(p), field)
    if classes is None:
        uniq = sorted(names.unique())
        classes = ClassTable(np.arange(len(uniq)), uniq, np.zeros(len(uniq), np.int64), source=_name(p))
    return classes.index_of_names(names, _name(p), field), classes


def _finish_classes(classes: ClassTable, splits: dict[str, Labels], given: bool) -> ClassTable:
    """Without a given class table, train counts come from the train labels of the same file."""
    if not given and "train" in splits:
        return classes.with_counts(splits["train"].counts(classes.n_classes))
    return classes


def load_label_splits(path, classes: ClassTable | None = None, split: str | None = None,
                      label_col: str | None = None, id_col: str | None = None, multi_label: str = "error", *,
                      text_col: str | None = None
                      ) -> tuple[dict[str, Labels], ClassTable]:
    """Load a label file that may hold several splits.

    Parameters
    ----------
    path : str or Path
        CSV/TSV/Parquet, text list (``path label``), GoEmotions TSV, or an image-folder tree.
    classes : ClassTable, optional
        Map labels onto this table (unknown ids / names are an error). Without it, the table is
        built from the file (integer ids 0..max, or sorted names) with train counts from the
        file's train rows.
    split : str, optional
        The split of a file without a split column (default ``train``), or the one split to keep.
    multi_label : {"error", "auto", "multi", "first", "drop"}
        What to do with multi-label targets (:mod:`lt_core.data.multilabel`): stop with the
        choices (default), return :class:`~lt_core.data.schema.MultiLabels` when the file is
        multi-label ("auto") or always ("multi"), or make them single-label by keeping the first
        label / dropping the rows with several labels (counted in the labels' ``notes``).
    text_col : str, optional
        The table's text column (default: the first of ``text``, ``sentence``, ``comment``, ...):
        kept as :attr:`Labels.texts`, the content the examples show. A GoEmotions TSV's comment is
        kept the same way; an image-folder tree records itself as :attr:`Labels.image_root`.

    Returns
    -------
    (dict split -> Labels or MultiLabels, ClassTable)
    """
    from . import multilabel as _ml

    p = Path(path)
    given = classes is not None
    if p.is_dir():
        labels, classes = _load_image_folder(p, classes, split or "train")
        return {labels.split: labels}, _finish_classes(classes, {labels.split: labels}, given)
    p = _check_file(p, "label file")
    ext = _base_ext(p)
    if ext in (".md", ".py", ".ipynb", ".html", ".pdf", ".jpg", ".png", ".zip", ".tar"):
        raise InputError(f"'{ext}' is not a label file", _name(p),
                         hint="labels: CSV / TSV / Parquet, a 'path label' text list, or an image-folder tree")
    if ext in (".npy", ".npz", ".json"):  # indicator matrix / class ids; COCO-LVIS GT as image-level labels
        out = (_ml.label_array(p, classes, split or _split_from_name(p), multi_label) if ext != ".json" else
               _ml.image_labels_from_detection(p, split or _split_from_name(p), multi_label, classes))
        return out[0], _finish_classes(out[1], out[0], given)
    kind = sniff(p)
    if ext in (".txt", ".lst", ".list") or (ext not in (".csv", ".tsv", ".parquet", ".tab") and kind == "text"
                                            and not _looks_like_table(p)):
        out = _load_text_list(p, classes, split or _split_from_name(p), multi_label)
        return out[0], _finish_classes(out[1], out[0], given)
    if ext in (".tsv", ".tab") and _is_goemotions_tsv(p):
        out = _ml.goemotions_labels(p, classes, split or _split_from_name(p), multi_label)
        return out[0], _finish_classes(out[1], out[0], given)
    df = _read_table(p)
    lab = _find_col(df, _LABEL_COLS, label_col, p, "label")
    idc = _find_col(df, _ID_COLS, id_col, p, "id")
    if idc == lab:
        idc = None
    spc = _find_col(df, ("split", "subset", "set"), None, p, "split")
    texts = _text_column(df, text_col, p, (lab, idc, spc))
    ml_out = _ml.table_labels(df, lab, idc, spc, classes, split, _name(p), multi_label, _split_from_name(p),
                              texts=texts)
    if ml_out is not None:  # several labels per row, a list column, or a wide 0/1 indicator table
        return ml_out[0], _finish_classes(ml_out[1], ml_out[0], given)
    if lab is None:
        raise InputError(f"no label column (looked for {', '.join(_LABEL_COLS[:8])}, ...; columns: "
                         f"{list(df.columns)[:12]})", _name(p), "label", hint="name the column 'label'")
    idx, classes = _labels_to_index(df[lab].to_numpy(), classes, p, lab)
    ids = df[idc].astype(str).to_numpy(dtype=object) if idc else None
    if ids is not None and len(pd.unique(ids)) != len(ids):
        dup = pd.Series(ids).value_counts()
        raise InputError(f"duplicate sample ids, e.g. {dup[dup > 1].index.tolist()[:5]}", _name(p), idc)
    out: dict[str, Labels] = {}
    if spc:
        sp = np.array([_normalise_split(v, p) for v in df[spc].to_numpy()], dtype=object)
        for s in SPLITS:
            m = sp == s
            if m.any() and (split is None or split == s):
                rows = np.flatnonzero(m)
                notes = ()
                if len(rows) < len(df):
                    others = ", ".join(f"{o} {int((sp == o).sum()):,}" for o in SPLITS if o != s and (sp == o).any())
                    notes = (f"kept the {len(rows):,} rows with {spc} = {s} of {len(df):,} (the other rows: {others})",)
                out[s] = Labels(idx[m], s, None if ids is None else ids[m], _name(p), notes, file_rows=rows,
                                file_n_rows=len(df), texts=None if texts is None else texts[m])
        if split is not None and split not in out:
            raise InputError(f"no rows with split '{split}' (found {sorted(set(sp))})", _name(p), spc)
    else:
        s = split or _split_from_name(p)
        out[s] = Labels(idx, s, ids, _name(p), texts=texts)
    return out, _finish_classes(classes, out, given)


def _text_column(df: pd.DataFrame, text_col: str | None, p: Path, taken: tuple) -> np.ndarray | None:
    """The samples' texts (object array, None for a missing value) from a label table, or None."""
    col = _find_col(df, _TEXT_COLS, text_col, p, "text")
    if col is None or (col in taken and not text_col):
        return None
    vals = df[col].to_numpy(dtype=object)
    nested = [i for i, v in enumerate(vals[:1000]) if isinstance(v, (list, tuple, dict, np.ndarray))]
    if nested:
        raise InputError(f"the text column holds a list or object in row {nested[0] + 1}", _name(p), col,
                         hint="one text (a string) per row")
    return np.array([None if v is None or (isinstance(v, float) and v != v) else str(v) for v in vals],
                    dtype=object)


def load_labels(path, classes: ClassTable | None = None, split: str | None = None,
                label_col: str | None = None, id_col: str | None = None, multi_label: str = "error", *,
                text_col: str | None = None
                ) -> tuple[Labels, ClassTable]:
    """Load the labels of ONE split. See :func:`load_label_splits` for formats and parameters.

    A file with a split column needs ``split`` unless it holds a single split.
    """
    out, classes = load_label_splits(path, classes, split, label_col, id_col, multi_label, text_col=text_col)
    if len(out) > 1:
        raise InputError(f"the file holds several splits {list(out)}; say which one", _name(path), "split")
    return next(iter(out.values())), classes


def _first_line(p: Path) -> str:
    """The first line of a (possibly gzipped) text file, without reading the rest."""
    opener = gzip.open if _head(p, 2) == b"\x1f\x8b" else open
    try:
        with opener(p, "rb") as fh:
            raw = fh.readline(1 << 20)
    except (OSError, EOFError) as e:
        raise InputError(f"the gzip stream is corrupt or truncated ({e})", _name(p))
    return raw.decode("utf-8-sig", errors="replace").rstrip("\r\n")


def _looks_like_table(p: Path) -> bool:
    first = _first_line(p)
    return "," in first or "\t" in first


def _split_from_name(p: Path) -> str:
    """The split a file name suggests (``*_test.txt`` -> test, ``dev.tsv`` -> val), else train."""
    n = _file_name(p).lower()
    for k, v in (("train", "train"), ("val", "val"), ("dev", "val"), ("test", "test")):
        if k in n:
            return v
    return "train"


def _load_text_list(p: Path, classes: ClassTable | None, split: str, multi_label: str = "error"):
    lines = [ln.strip() for ln in _read_text(p).splitlines()]
    n_comments = sum(1 for ln in lines if ln.startswith("#"))
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise InputError("the list has no lines", _name(p))
    parts = [ln.rsplit(None, 1) for ln in lines]
    bad = [i for i, x in enumerate(parts) if len(x) != 2]
    if bad:
        raise InputError(f"line {bad[0] + 1} has {len(parts[bad[0]])} field: expected 'relative/path label'",
                         _name(p), "line", hint="one sample per line: a path, a space, then the label",
                         excerpt=lines[bad[0]][:60])
    ids = np.array([x[0] for x in parts], dtype=object)
    raw = np.array([x[1] for x in parts], dtype=object)
    if len(pd.unique(ids)) != len(ids):
        dup = pd.Series(ids).value_counts()
        raise InputError(f"duplicate paths, e.g. {dup[dup > 1].index.tolist()[:3]}", _name(p), "path")
    from .multilabel import list_labels

    ml_out = list_labels(ids, raw, classes, split, _name(p), multi_label)
    if ml_out is not None:  # 'path a,b' lines: several labels per sample
        return ml_out
    idx, classes = _labels_to_index(raw, classes, p, "label")
    notes = (f"skipped {n_comments:,} comment lines (starting with #)",) if n_comments else ()
    return {split: Labels(idx, split, ids, _name(p), notes)}, classes


def _is_goemotions_tsv(p: Path) -> bool:
    first = _first_line(p).split("\t")
    return len(first) == 3 and re.fullmatch(r"\d+(,\d+)*", first[1].strip()) is not None


def goemotions_rows(p: Path) -> tuple[np.ndarray, np.ndarray]:
    """(label lists as str, comment ids) of a GoEmotions TSV."""
    labs, ids, _ = goemotions_table(p)
    return labs, ids


def goemotions_table(p: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label lists as str, comment ids, comment texts) of a GoEmotions TSV, one entry per row."""
    rows = [ln.split("\t") for ln in _read_text(p).splitlines() if ln.strip()]
    bad = [i for i, r in enumerate(rows) if len(r) != 3 or not re.fullmatch(r"\d+(,\d+)*", r[1].strip())]
    if bad:
        raise InputError(f"line {bad[0] + 1}: expected 'text<TAB>label ids<TAB>id'", _name(p), "labels")
    return (np.array([r[1].strip() for r in rows], dtype=object), np.array([r[2].strip() for r in rows], dtype=object),
            np.array([r[0] for r in rows], dtype=object))


def _load_image_folder(p: Path, classes: ClassTable | None, split: str):
    subdirs = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not subdirs:
        raise InputError("expected one sub-folder per class, found none", _name(p))
    names, ys, ids = [], [], []
    skipped = 0
    for k, d in enumerate(subdirs):
        every = [f for f in d.rglob("*") if f.is_file()]
        files = sorted(str(f.relative_to(p)) for f in every
                       if not f.name.startswith(".") and (f.suffix.lower() in _IMG_EXT or not f.suffix))
        skipped += len(every) - len(files)
        names.append(d.name)
        ids.extend(files)
        ys.extend([d.name] * len(files))
    if not ids:
        raise InputError("the class folders hold no image files", _name(p))
    if classes is None:
        classes = ClassTable(np.arange(len(names)), names, np.zeros(len(names), np.int64), source=_name(p))
    idx = classes.index_of_names(np.array(ys, dtype=object), _name(p), "folder")
    notes = (f"skipped {skipped:,} files that are hidden or not images (by extension)",) if skipped else ()
    return Labels(idx, split, np.array(ids, dtype=object), _name(p), notes, image_root=str(p.resolve())), classes


def load_class_names(path) -> list[str]:
    """A class-name list: one name per line (line i = class id i), e.g. GoEmotions ``emotions.txt``."""
    p = _check_file(path, "class-name list")
    names = [ln.strip() for ln in _read_text(p).splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names or any(not n for n in names):
        raise InputError("expected one non-empty class name per line", _name(p))
    if len(set(names)) != len(names):
        raise InputError("duplicate class names", _name(p))
    return names


# ----------------------------------------------------------------------------------------------
# class counts
# ----------------------------------------------------------------------------------------------
_COUNT_COLS = ("count", "train_count", "image_count", "train_single", "n", "train", "num_samples", "samples")
_CID_COLS = ("class_id", "id", "label", "category_id", "class")
_NAME_COLS = ("name", "class_name", "emotion", "category", "label_name")
_GROUP_COLS = ("shot_group", "shot", "group", "bin", "frequency_group", "many_medium_few")


def load_train_counts(path, count_col: str | None = None) -> ClassTable:
    """Per-class train counts from a CSV (``class_id,count[,name]``) -> ClassTable.

    Also reads ImageNet-LT / Places-LT ``*_class_counts.csv`` (``train_count``), GoEmotions
    counts (``train_single``) and LVIS category CSVs (``image_count``, ``instance_count``,
    ``frequency``).
    """
    p = _check_file(path, "class-count file")
    df = _read_table(p)
    cnt = _find_col(df, _COUNT_COLS, count_col, p, "count")
    cid = _find_col(df, _CID_COLS, None, p, "class_id")
    if cnt is None:
        raise InputError(f"no count column (expected one of {', '.join(_COUNT_COLS[:4])}; columns: "
                         f"{list(df.columns)[:12]})", _name(p), "count", hint="columns class_id,count[,name]")
    counts = _int_column(df[cnt], p, cnt, "counts")
    if (counts < 0).any():
        i = _row_of(counts < 0)
        raise InputError(f"counts must be >= 0, got {int(counts[i])} (row {i + 1})", _name(p), cnt)
    if cid is not None:
        ids = _int_column(df[cid], p, cid, "class ids", hint="class ids are integers; a column of class names "
                                                              "should be called 'name'")
    else:
        ids = np.arange(len(df))
    namec = _find_col(df, _NAME_COLS, None, p, "name")
    names = df[namec].astype(str).to_numpy() if namec else np.array([str(i) for i in ids], dtype=object)
    inst = freq = groups = None
    notes = [f"train counts from column '{cnt}'" + (f", class ids from '{cid}'" if cid else ", class ids 0..C-1 "
                                                    "by row") + (f", names from '{namec}'" if namec else "")]
    if "instance_count" in df.columns:
        inst = _int_column(df["instance_count"], p, "instance_count", "instance counts")
    if "frequency" in df.columns and df["frequency"].isin(["r", "c", "f"]).all():
        freq = df["frequency"].to_numpy(dtype=object)
        notes.append("LVIS frequency (r / c / f) from column 'frequency'")
    gcol = _find_col(df, _GROUP_COLS, None, p, "group")
    if gcol is not None:
        g = df[gcol].astype(str).str.strip()
        if (g != "").all() and 2 <= g.nunique() <= 20:
            groups = g.to_numpy(dtype=object)
            notes.append(f"per-class groups from column '{gcol}' ({', '.join(sorted(g.unique()))})")
        else:
            notes.append(f"column '{gcol}' ignored as a group column (empty values or not 2-20 distinct groups)")
    order = np.argsort(ids, kind="stable")
    if not np.array_equal(order, np.arange(len(order))):
        notes.append("rows sorted by class id")
    return ClassTable(ids[order], names[order], counts[order],
                      None if inst is None else inst[order], None if freq is None else freq[order], _name(p),
                      groups=None if groups is None else groups[order], group_column=gcol or "", notes=tuple(notes))


# ----------------------------------------------------------------------------------------------
# predictions and features
# ----------------------------------------------------------------------------------------------
def _content_note(kind: str) -> str:
    return {"pickle": "a Python pickle (never loaded: nothing is unpickled)",
            "zip (npz or torch)": "a zip archive (npz or torch)"}.get(kind, kind)


def _load_array_file(p: Path, keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(array, ids or None, key) from .npy / .npz, headers checked against the file size, no pickles."""
    from .npyfile import npz_members, read_npy, read_npz_array

    kind = sniff(p)
    ext = _base_ext(p)
    if ext == ".npy":
        if kind != "npy":
            raise InputError(f"the name says .npy but the content looks like {_content_note(kind)}", _name(p),
                             hint="save arrays with numpy.save")
        return read_npy(p, _name(p)), None, "array"
    if kind != "zip (npz or torch)":
        raise InputError(f"the name says .npz but the content looks like {_content_note(kind)}", _name(p),
                         hint="save arrays with numpy.savez / savez_compressed")
    members = npz_members(p, max_file_bytes(), _name(p))
    files = list(members)
    key = next((k for k in keys if k in files), None)
    if key is None:
        arrays = [k for k in files if k not in ("ids", "sample_ids")]
        if len(arrays) != 1:
            raise InputError(f"expected an array named one of {list(keys)} (found {files[:12]})", _name(p))
        key = arrays[0]
    arr = read_npz_array(p, key, _name(p))
    ids = None
    for k in ("ids", "sample_ids"):
        if k in files:
            raw = read_npz_array(p, k, _name(p))
            if raw.ndim != 1 or raw.dtype.kind not in "iuUS":
                raise InputError(f"sample ids must be a 1-D array of integers or strings, got {raw.dtype} "
                                 f"{raw.shape}", _name(p), k)
            ids = raw.astype(str).astype(object)
    return arr, ids, key


def _check_finite(arr: np.ndarray, p: Path, field: str, hint: str = "scores and features must be finite numbers"
                  ) -> None:
    if not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        rows = np.flatnonzero(bad.any(axis=1) if arr.ndim == 2 else bad)
        what = "NaN" if np.isnan(arr).any() else "inf"
        raise InputError(f"{int(bad.sum())} {what}/non-finite values (first at row {int(rows[0]) + 1})",
                         _name(p), field, hint=hint)


def _score_kind(s: np.ndarray) -> str:
    if s.size and s.min() >= 0 and s.max() <= 1 and np.allclose(s.sum(axis=1), 1.0, atol=1e-3):
        return "probs"
    return "logits"


def _align(pred_ids, n: int, labels: Labels | None, p: Path) -> np.ndarray | None:
    """Row order that aligns predictions to labels by sample id (None = keep file order)."""
    if labels is None:
        return None
    if pred_ids is not None and labels.sample_ids is not None:
        pos = pd.Index(pred_ids)
        if not pos.is_unique:
            raise InputError("duplicate sample ids in the predictions", _name(p), "id")
        take = pos.get_indexer(labels.sample_ids)
        if (take < 0).any():
            missing = np.asarray(labels.sample_ids)[take < 0][:3].tolist()
            raise InputError(f"{int((take < 0).sum())} labelled samples have no prediction, e.g. {missing}",
                             _name(p), "id")
        return take
    if n != len(labels):
        raise InputError(f"{n} predictions but {len(labels)} labels ({labels.source})", _name(p),
                         hint="predictions are aligned by order unless both files carry sample ids")
    return None


def load_predictions(path, classes: ClassTable, split: str = "test", labels: Labels | None = None,
                     kind: str | None = None) -> Predictions:
    """Load one model's predictions for one split.

    Parameters
    ----------
    path : .npy / .npz (N x C scores, or N predicted class ids), Parquet / CSV (wide score
        columns named by class id or name, optionally prefixed, e.g. ``score_3``; or one
        predicted-label column; an optional id column aligns rows to ``labels``).
    classes : ClassTable
        Column j of the scores is class index j; predicted ids / names map through the table.
    labels : Labels, optional
        Checked for length, or used to align by sample id when both sides have ids.
    kind : {"logits", "probs"}, optional
        Default: "probs" when rows are in [0, 1] and sum to 1, else "logits".
    """
    p = _check_file(path, "prediction file")
    C = classes.n_classes
    ext = _base_ext(p)
    ids = None
    notes: list[str] = []
    if ext in (".npy", ".npz"):
        arr, ids, key = _load_array_file(p, ("scores", "logits", "probs", "probabilities", "preds", "labels", "y_pred"))
        field = key
        if arr.dtype.kind == "b":
            raise InputError(f"a boolean array {arr.shape}: expected N x C scores or N integer class ids", _name(p),
                             field, hint="class ids are integers, scores are numbers")
        if arr.dtype.kind not in "iuf":
            raise InputError(f"expected a numeric array, got dtype {arr.dtype}", _name(p), field)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
            notes.append("an N x 1 array read as N predicted class ids")
        if arr.ndim == 2 and arr.dtype != np.float32 and arr.dtype.kind == "f":
            notes.append(f"{arr.dtype} scores stored as float32")
        if arr.ndim == 2:
            if arr.dtype.kind in "iu" and key not in ("scores", "logits", "probs", "probabilities"):
                raise InputError(f"a 2-D integer array {arr.shape}: expected float scores (N x C)", _name(p), field)
            scores = arr.astype(np.float32, copy=False)
            pred = None
        elif arr.ndim == 1:
            if arr.dtype.kind == "f":
                raise InputError(f"a 1-D {arr.dtype} array: predicted class ids must be integers (and scores "
                                 "N x C)", _name(p), field,
                                 hint="save ids with pred.astype(np.int64); a binary model's scores as N x 2")
            if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
                raise InputError("predicted class ids beyond the 64-bit integer range", _name(p), field)
            scores, pred = None, arr.astype(np.int64)
        else:
            raise InputError(f"expected N x C scores or N class ids, got shape {arr.shape}", _name(p), field)
    else:
        df = _read_table(p)
        idc = _find_col(df, _ID_COLS, None, p, "id")
        ids = df[idc].astype(str).to_numpy(dtype=object) if idc else None
        rest = [c for c in df.columns if c != idc]
        score_cols = _score_columns(rest, classes)
        if score_cols is not None:
            num = df[score_cols].apply(pd.to_numeric, errors="coerce")
            bad = num.isna() & (df[score_cols].astype(str).apply(lambda c: c.str.strip().str.lower())
                                .isin(["nan", "-nan", "+nan"]) == False)  # noqa: E712 - NaN text goes to the NaN check
            if bad.to_numpy().any():
                r, c = np.argwhere(bad.to_numpy())[0]
                raise InputError(f"scores must be numbers, got '{str(df[score_cols].iat[r, c])[:30]}' (row {r + 1})",
                                 _name(p), score_cols[c])
            scores = num.to_numpy(np.float32)
            pred = None
        else:
            pc = _find_col(df[rest], _PRED_COLS, None, p, "prediction")
            if pc is None or len(rest) > 2:
                raise InputError(f"expected {C} score columns (named by class id or name) or one predicted-label "
                                 f"column; found columns {rest[:12]}", _name(p),
                                 hint="the class-count mismatch is the usual cause")
            scores = None
            names = df[pc].astype(str).str.strip()
            if names.isin(set(classes.names)).all() and not np.array_equal(classes.names,
                                                                            [str(i) for i in classes.ids]):
                ints = None  # class names (even ones that look like numbers)
            else:
                ints = _as_int_array(df[pc].to_numpy(), p, pc, "predicted class ids")
            pred = ints if ints is not None else names.to_numpy(dtype=object)
            field = pc
        field = "scores" if scores is not None else field
    if scores is not None:
        if scores.shape[1] != C:
            raise InputError(f"{scores.shape[1]} score columns but the dataset has {C} classes", _name(p), "scores",
                             hint="column j must be the score of class index j")
        _check_finite(scores, p, "scores")
        n = len(scores)
    else:
        if pred.dtype == object:
            pred_idx = classes.index_of_names(pred, _name(p), field)
        else:
            pred_idx = classes.index_of(pred, _name(p), field)
        n = len(pred_idx)
    if n == 0:
        raise InputError("no predictions (0 rows)", _name(p))
    take = _align(ids, n, labels, p)
    if take is not None:
        if scores is not None:
            scores = scores[take]
        else:
            pred_idx = pred_idx[take]
        ids = np.asarray(labels.sample_ids)
        notes.append(f"rows matched to the {labels.split} labels by sample id")
        if n > len(take):
            notes.append(f"ignored {n - len(take):,} of {n:,} predictions whose sample ids are not in the "
                         f"{labels.split} labels")
    if scores is not None:
        k = kind or _score_kind(scores)
        if k not in ("logits", "probs"):
            raise InputError(f"kind must be logits or probs, got {k}", _name(p))
        if kind is None:
            notes.append("read as probabilities (every row in [0, 1] and summing to 1)" if k == "probs"
                         else "read as logits (rows are not probabilities)")
        return Predictions(split, k, scores=np.ascontiguousarray(scores, dtype=np.float32), sample_ids=ids,
                           source=_name(p), notes=tuple(notes))
    notes.append("predicted class ids (no scores: accuracy-type metrics only)")
    return Predictions(split, "labels", labels=pred_idx.astype(np.int64), sample_ids=ids, source=_name(p),
                       notes=tuple(notes))


def _score_columns(cols: list[str], classes: ClassTable) -> list[str] | None:
    """Score columns ordered by class index, or None when the columns are not wide scores."""
    C = classes.n_classes
    if len(cols) != C:
        return None
    by_name = {n: k for k, n in enumerate(classes.names)}
    by_id = {str(i): k for k, i in enumerate(classes.ids)}
    for mapping, strip in ((by_name, False), (by_id, False), (by_id, True), (by_name, True)):
        keys = [re.sub(r"^(score|logit|prob|p|class)[_\-:]?", "", c, flags=re.I) if strip else c for c in cols]
        if all(k in mapping for k in keys) and len({mapping[k] for k in keys}) == C:
            order = sorted(range(C), key=lambda i: mapping[keys[i]])
            return [cols[i] for i in order]
    return None


def load_features(path, split: str = "train") -> Features:
    """Features (N x D float32) from .npy / .npz (key X / features / single array) / Parquet."""
    p = _check_file(path, "feature file")
    ext = _base_ext(p)
    ids = None
    notes: list[str] = []
    if ext in (".npy", ".npz"):
        X, ids, key = _load_array_file(p, ("X", "features", "feats", "x", "embeddings"))
    elif ext == ".parquet" or sniff(p) == "parquet":
        df = _read_table(p)
        idc = _find_col(df, _ID_COLS, None, p, "id")
        if idc:
            ids = df[idc].astype(str).to_numpy(dtype=object)
            df = df.drop(columns=[idc])
            notes.append(f"column '{idc}' read as sample ids, not as a feature")
        bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
        if bad:
            raise InputError(f"non-numeric feature columns {bad[:5]}", _name(p), str(bad[0]),
                             hint="features are numbers; an id column should be called 'id'")
        X, key = df.to_numpy(np.float32), "columns"
    else:
        raise InputError(f"unsupported feature format '{ext or sniff(p)}'", _name(p),
                         hint="use .npy, .npz or .parquet")
    if X.dtype.kind not in "biuf":
        raise InputError(f"expected numeric features, got dtype {X.dtype}", _name(p), key)
    if X.ndim != 2:
        raise InputError(f"expected a 2-D array N x D, got shape {X.shape}", _name(p), key)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"empty feature array {X.shape}", _name(p), key)
    if X.dtype != np.float32:
        notes.append(f"{X.dtype} features converted to float32")
    if X.dtype.kind == "f" and X.dtype != np.float32:
        _check_finite(X, p, key)
    with np.errstate(over="ignore"):
        X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.isfinite(X).all():
        _check_finite(X, p, key, hint="features must be finite numbers within the float32 range (|x| < 3.4e38)")
    return Features(X, split, ids, _name(p), notes=tuple(notes))


def _torch_load_message(e: BaseException) -> str:
    """What went wrong in ``torch.load(weights_only=True)``, in our words (torch's own text advises
    retrying with ``weights_only=False``, i.e. running the file's code: never shown)."""
    import pickle

    text = str(e)
    if isinstance(e, pickle.UnpicklingError) or "weights_only" in text or "Unsupported global" in text:
        return ("holds Python objects other than tensors (a pickled model or custom classes?); Tailscope loads torch files "
                "weights-only and never unpickles code")
    if isinstance(e, (EOFError, zipfile.BadZipFile)) or "zip" in text.lower() or "central directory" in text:
        return "is not a readable torch file (damaged, truncated or another format)"
    return f"is not a readable torch weights file ({type(e).__name__})"


def _sd_array(k: str, v, p) -> np.ndarray:
    a = v.detach().cpu()
    if a.is_complex():
        raise InputError(f"tensor '{k}' has dtype {a.dtype}; expected real numbers", _name(p), k)
    try:
        return a.float().numpy()
    except Exception:  # quantized / sparse / meta tensors
        raise InputError(f"tensor '{k}' ({a.dtype}, {a.layout}) cannot be read as dense numbers", _name(p),
                         k) from None


def load_classifier(path) -> ClassifierWeights:
    """Original classifier weights W (C x D) and bias (C,) from a torch state_dict
    (loaded with ``weights_only=True``), ``.safetensors`` or ``.npz`` (keys W/weight, b/bias)."""
    p = _check_file(path, "classifier file")
    ext = _base_ext(p)
    if ext in (".pt", ".pth", ".bin", ".ckpt"):
        import torch

        try:
            obj = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as e:  # torch raises UnpicklingError / RuntimeError for unsafe or corrupt files
            raise InputError(_torch_load_message(e), _name(p),
                             hint="save a state_dict of tensors: torch.save(model.state_dict(), path)") from None
        if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
            obj = obj["state_dict"]
        if not isinstance(obj, dict):
            raise InputError(f"expected a state_dict (dict of tensors), got {type(obj).__name__}", _name(p),
                             hint="save a state_dict of tensors: torch.save(model.state_dict(), path)")
        sd = {str(k): _sd_array(str(k), v, p) for k, v in obj.items() if hasattr(v, "detach")}
    elif ext == ".safetensors":
        from safetensors.numpy import load_file

        try:
            sd = load_file(str(p))
        except Exception as e:
            raise InputError(f"cannot read safetensors ({type(e).__name__}: {' '.join(str(e).split())[:120]})",
                             _name(p), hint="save with safetensors.torch.save_file(state_dict, path)") from None
        bad = next((k for k, v in sd.items() if v.dtype.kind not in "biuf"), None)
        if bad is not None:
            raise InputError(f"tensor '{bad}' has dtype {sd[bad].dtype}; expected real numbers", _name(p), bad)
    elif ext == ".npz":
        if sniff(p) != "zip (npz or torch)":
            raise InputError(f"the name says .npz but the content looks like {_content_note(sniff(p))}", _name(p),
                             hint="save with numpy.savez(path, W=W, b=b)")
        from .npyfile import npz_members, read_npz_array

        members = npz_members(p, max_file_bytes(), _name(p))
        sd = {}
        for k, h in members.items():
            if h.dtype.kind not in "biuf":
                raise InputError(f"array '{k}' has dtype {h.dtype}; expected real numbers", _name(p), k)
            sd[k] = read_npz_array(p, k, _name(p))
    else:
        raise InputError(f"unsupported classifier format '{ext}'", _name(p), hint="use .pt/.pth, .safetensors or .npz")
    wkeys = [k for k in sd if np.ndim(sd[k]) == 2 and (k in ("W", "weight") or k.endswith(".weight") or k == "w")]
    if len(wkeys) != 1:
        raise InputError(f"expected exactly one 2-D weight (C x D) named W, weight or *.weight; found "
                         f"{[(k, tuple(np.shape(v))) for k, v in sd.items()][:8]}", _name(p), "weight")
    W = np.asarray(sd[wkeys[0]], dtype=np.float32)
    if W.shape[0] < 1 or W.shape[1] < 1:
        raise InputError(f"the weight has shape {W.shape}; expected C x D with C, D >= 1", _name(p), wkeys[0])
    prefix = wkeys[0][: -len("weight")] if wkeys[0].endswith("weight") else ""
    bkey = next((k for k in (prefix + "bias", "b", "bias") if k in sd and np.ndim(sd[k]) == 1), None)
    b = np.asarray(sd[bkey], dtype=np.float32) if bkey else np.zeros(W.shape[0], np.float32)
    if b.shape != (W.shape[0],):
        raise InputError(f"bias has shape {b.shape}, expected ({W.shape[0]},)", _name(p), bkey)
    if not (np.isfinite(W).all() and np.isfinite(b).all()):
        raise InputError("non-finite classifier weights", _name(p), wkeys[0] if not np.isfinite(W).all() else bkey)
    notes = [f"weight '{wkeys[0]}' {W.shape[0]:,} x {W.shape[1]:,}"
             + (f", bias '{bkey}'" if bkey else ", no bias in the file: zeros")]
    unused = [k for k in sd if k not in (wkeys[0], bkey)]
    if unused:
        notes.append(f"ignored {len(unused)} other entries ({', '.join(map(str, unused[:5]))}"
                     f"{', ...' if len(unused) > 5 else ''})")
    return ClassifierWeights(W, b, _name(p), notes=tuple(notes))


# ----------------------------------------------------------------------------------------------
# detection
# ----------------------------------------------------------------------------------------------
def _require(obj: dict, key: str, typ, p: Path, where: str):
    if key not in obj:
        raise InputError(f"missing key '{key}' in {where}", _name(p), key)
    v = obj[key]
    if not isinstance(v, typ):
        raise InputError(f"'{key}' in {where} must be {typ.__name__ if isinstance(typ, type) else typ}, "
                         f"got {type(v).__name__}", _name(p), key)
    return v


_NUM_TYPES = (int, float)


def _type_name(v) -> str:
    return {bool: "a boolean", str: "a string", type(None): "null", list: "a list", dict: "an object",
            float: "a float"}.get(type(v), type(v).__name__)


def _int_ids(values: list, p, field: str, where: str) -> np.ndarray:
    """Integer ids (JSON integers only: never floats, booleans, strings or null) -> int64."""
    if not values:
        return np.zeros(0, np.int64)
    if set(map(type, values)) != {int}:
        i, v = next((i, v) for i, v in enumerate(values) if type(v) is not int)
        raise InputError(f"{where}[{i}] has {field} {str(v)[:40]!r} ({_type_name(v)}): expected an integer id",
                         _name(p), f"{where}.{field}" if where != "entry" else field)
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        i = next(i for i, v in enumerate(values) if not -2 ** 63 <= v < 2 ** 63)
        raise InputError(f"{where}[{i}] has {field} {values[i]}: beyond a 64-bit integer", _name(p),
                         f"{where}.{field}" if where != "entry" else field)


def _numbers(values: list, p, field: str, where: str) -> np.ndarray:
    """JSON numbers (int or float; never strings, booleans or null) -> float64."""
    if not values:
        return np.zeros(0)
    if not set(map(type, values)) <= {int, float}:
        i, v = next((i, v) for i, v in enumerate(values) if type(v) not in _NUM_TYPES)
        raise InputError(f"{where}[{i}] has {field} {str(v)[:40]!r} ({_type_name(v)}): expected a number",
                         _name(p), f"{where}.{field}" if where != "entry" else field)
    return np.array(values, dtype=np.float64)


def _bbox_array(boxes: list, p: Path, field: str, ids=None) -> np.ndarray:
    """``[x, y, width, height]`` boxes of numbers with width, height > 0 -> (N, 4) float64."""
    where = "entry" if "." not in field else field.split(".")[0]
    from itertools import chain

    try:
        types = set(map(type, boxes)) | set(map(type, chain.from_iterable(boxes)))
    except TypeError:
        types = None
    arr = None
    if types is not None and types <= {list, int, float}:
        try:
            arr = np.asarray(boxes, dtype=np.float64)
        except (ValueError, TypeError):
            arr = None
    if arr is None or arr.ndim != 2 or arr.shape[1] != 4:
        bad = next((i for i, b in enumerate(boxes) if not (isinstance(b, list) and len(b) == 4
                                                            and all(type(x) in _NUM_TYPES for x in b))), 0)
        raise InputError(f"{where}[{bad}] has bbox {str(boxes[bad])[:60]}: expected [x, y, width, height] "
                         "(four numbers)", _name(p), field)
    if not np.isfinite(arr).all():
        i = int(np.flatnonzero(~np.isfinite(arr).all(1))[0])
        raise InputError(f"entry {i} has a non-finite bbox {boxes[i]}", _name(p), field)
    bad = (arr[:, 2] <= 0) | (arr[:, 3] <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        ref = f" (id {ids[i]})" if ids is not None else ""
        raise InputError(f"{int(bad.sum())} boxes have zero or negative width/height, e.g. entry {i}{ref}: "
                         f"{boxes[i]}", _name(p), field, hint="boxes are [x, y, width, height] with width, height > 0")
    return arr


def _rle_counts(s: str) -> list | None:
    """Run lengths of a COCO compressed RLE string (pycocotools' ``rleFrString``); None if malformed."""
    cnts: list = []
    p = 0
    n = len(s)
    while p < n:
        x = 0
        k = 0
        more = 1
        while more:
            if p >= n:
                return None
            c = ord(s[p]) - 48
            if c < 0 or c > 63:
                return None
            x |= (c & 0x1f) << 5 * k
            more = c & 0x20
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << 5 * k
        if len(cnts) > 2:
            x += cnts[-2]
        cnts.append(x)
    return cnts


def _check_rles(seg: list, p, field: str = "segmentation") -> None:
    """Every detection mask is an RLE ``{size: [h, w], counts}`` whose run lengths cover h * w pixels."""
    for i, s in enumerate(seg):
        if not (isinstance(s, dict) and "counts" in s and "size" in s):
            raise InputError(f"entry {i}: segmentation must be an RLE {{size, counts}}, got {_type_name(s)}",
                             _name(p), field)
        size = s["size"]
        if not (isinstance(size, list) and len(size) == 2 and all(type(v) is int and v >= 0 for v in size)):
            raise InputError(f"entry {i}: RLE size {str(size)[:40]} must be [height, width] (two integers >= 0)",
                             _name(p), f"{field}.size")
        c = s["counts"]
        if isinstance(c, str):
            runs = _rle_counts(c)
        elif isinstance(c, list) and all(type(v) is int for v in c):
            runs = c
        else:
            runs = None
        if runs is None or any(r < 0 for r in runs) or sum(runs) != size[0] * size[1]:
            raise InputError(f"entry {i}: the RLE 'counts' do not decode to a {size[0]} x {size[1]} mask "
                             "(garbage or truncated RLE)", _name(p), f"{field}.counts",
                             hint="masks are COCO RLE as pycocotools.mask.encode writes them")


def _optional_number(images: list, key: str, p, where: str) -> np.ndarray:
    """An optional numeric field per object (missing -> 0); wrong types are errors."""
    out = np.zeros(len(images))
    for i, im in enumerate(images):
        if key in im:
            v = im[key]
            if type(v) not in _NUM_TYPES or (type(v) is float and not np.isfinite(v)) or v < 0:
                raise InputError(f"{where}[{i}] (id {im.get('id')}) has {key} {str(v)[:40]!r} ({_type_name(v)}): "
                                 "expected a number >= 0", _name(p), f"{where}.{key}")
            out[i] = v
    return out


def _count_field(cats: list, key: str, p) -> np.ndarray:
    """A non-negative integer count per category (LVIS ``image_count`` / ``instance_count``)."""
    out = np.zeros(len(cats), np.int64)
    for i, c in enumerate(cats):
        v = c.get(key)
        if type(v) is not int or not 0 <= v < 2 ** 63:
            raise InputError(f"categories[{i}] (id {c.get('id')}) has {key} {str(v)[:40]!r} ({_type_name(v)}): "
                             "expected an integer >= 0", _name(p), f"categories.{key}")
        out[i] = v
    return out


def _contradicts_frequency(image_count: np.ndarray, freq: np.ndarray) -> bool:
    """True when LVIS letters (r: 1-10, c: 11-100, f: > 100 train images) disagree with more than
    5 % of the counts: the counts are then not the train counts the letters were made from."""
    f = np.asarray(freq, dtype=object)
    expect = np.where(image_count > 100, "f", np.where(image_count > 10, "c", "r"))
    return bool(np.mean(expect != f) > 0.05)


def _id_lists(images: list, key: str, cat_ids: np.ndarray, p) -> list:
    """LVIS ``neg_category_ids`` / ``not_exhaustive_category_ids`` of every image: flat lists of
    known integer category ids (checked for all images at once); one int64 array per image."""
    from itertools import chain

    lists = [im.get(key, []) for im in images]
    if set(map(type, lists)) - {list}:
        i = next(i for i, v in enumerate(lists) if type(v) is not list)
        _id_list(lists[i], p, images[i], key, set(cat_ids.tolist()))
    flat = list(chain.from_iterable(lists))
    if flat and set(map(type, flat)) != {int}:
        i = next(i for i, v in enumerate(lists) if any(type(c) is not int for c in v))
        _id_list(lists[i], p, images[i], key, set(cat_ids.tolist()))
    arr = np.array(flat, dtype=np.int64) if flat else np.zeros(0, np.int64)
    known = np.isin(arr, cat_ids)
    if not known.all():
        lens = np.fromiter(map(len, lists), np.int64, len(lists))
        owner = np.repeat(np.arange(len(lists)), lens)
        i = int(owner[np.flatnonzero(~known)[0]])
        _id_list(lists[i], p, images[i], key, set(cat_ids.tolist()))
    lens = np.fromiter(map(len, lists), np.int64, len(lists))
    return np.split(arr, np.cumsum(lens)[:-1]) if len(lists) else []


def _id_list(v, p, im, key: str, cset: set) -> np.ndarray:
    """LVIS ``neg_category_ids`` / ``not_exhaustive_category_ids``: a flat list of known integer ids."""
    if not isinstance(v, list):
        raise InputError(f"image {im['id']}: '{key}' must be a list of category ids, got {_type_name(v)}",
                         _name(p), f"images.{key}")
    bad = next((c for c in v if type(c) is not int), None)
    if bad is not None or any(type(c) is not int for c in v):
        raise InputError(f"image {im['id']}: '{key}' holds {str(bad)[:40]!r} ({_type_name(bad)}): expected a flat "
                         "list of integer category ids", _name(p), f"images.{key}")
    unk = [c for c in v if c not in cset]
    if unk:
        raise InputError(f"image {im['id']}: unknown category ids {unk[:5]} in '{key}'", _name(p), f"images.{key}")
    return np.asarray(v, dtype=np.int64)


def load_detection_gt(path) -> DetectionGT:
    """COCO or LVIS ground-truth JSON (``.json`` / ``.json.gz``) -> :class:`DetectionGT`.

    Validates: the three lists, unique image / annotation / category ids, annotations pointing
    at known images and categories, 4-number boxes with positive size, LVIS per-image category
    lists referring to known categories. ``area`` defaults to w*h and ``iscrowd`` to 0.
    """
    p = Path(path)
    return _gt_from_dict(read_json(p), _name(p))


def _gt_from_dict(d: Any, source: str) -> DetectionGT:
    """Validate a parsed COCO / LVIS ground-truth object (see :func:`load_detection_gt`)."""
    p = source
    if not isinstance(d, dict):
        raise InputError(f"expected a JSON object with images / annotations / categories, got a "
                         f"{type(d).__name__}", _name(p), hint="a JSON list is a results file, not ground truth")
    images = _require(d, "images", list, p, "the top level")
    anns = _require(d, "annotations", list, p, "the top level")
    cats = _require(d, "categories", list, p, "the top level")
    if not cats:
        raise InputError("'categories' is empty", _name(p), "categories")
    for where, lst, keys in (("images", images, ("id",)), ("categories", cats, ("id", "name")),
                             ("annotations", anns, ("id", "image_id", "category_id", "bbox"))):
        if lst and set(map(type, lst)) != {dict}:
            i, o = next((i, o) for i, o in enumerate(lst) if not isinstance(o, dict))
            raise InputError(f"{where}[{i}] is {_type_name(o)}, expected an object", _name(p), where)
        for k in keys:
            if where != "annotations" and not all(k in o for o in lst):  # annotations: KeyError below
                i = next(i for i, o in enumerate(lst) if k not in o)
                raise InputError(f"{where}[{i}] has no '{k}'", _name(p), f"{where}.{k}")
    img_ids = _int_ids([im["id"] for im in images], p, "id", "images")
    cat_ids = _int_ids([c["id"] for c in cats], p, "id", "categories")
    try:
        ann_id_raw = [a["id"] for a in anns]
        ann_img_raw = [a["image_id"] for a in anns]
        ann_cat_raw = [a["category_id"] for a in anns]
        boxes_raw = [a["bbox"] for a in anns]
    except KeyError as e:
        k = e.args[0]
        i = next(i for i, o in enumerate(anns) if k not in o)
        raise InputError(f"annotations[{i}] has no '{k}'", _name(p), f"annotations.{k}")
    ann_id = _int_ids(ann_id_raw, p, "id", "annotations")
    ann_img = _int_ids(ann_img_raw, p, "image_id", "annotations")
    ann_cat = _int_ids(ann_cat_raw, p, "category_id", "annotations")
    for what, ids in (("image", img_ids), ("category", cat_ids), ("annotation", ann_id)):
        if len(np.unique(ids)) != len(ids):
            u, c = np.unique(ids, return_counts=True)
            raise InputError(f"duplicate {what} ids, e.g. {u[c > 1][:5].tolist()}", _name(p), f"{what}s.id")
    known_img = np.isin(ann_img, img_ids)
    if not known_img.all():
        raise InputError(f"{int((~known_img).sum())} annotations refer to unknown image ids, e.g. "
                         f"{np.unique(ann_img[~known_img])[:5].tolist()}", _name(p), "annotations.image_id")
    known_cat = np.isin(ann_cat, cat_ids)
    if not known_cat.all():
        raise InputError(f"{int((~known_cat).sum())} annotations refer to unknown category ids, e.g. "
                         f"{np.unique(ann_cat[~known_cat])[:5].tolist()}", _name(p), "annotations.category_id")
    bbox = _bbox_array(boxes_raw, p, "annotations.bbox", ann_id) if anns else np.zeros((0, 4))
    if any("area" in a for a in anns):
        area = bbox[:, 2] * bbox[:, 3] if len(anns) else np.zeros(0)
        has = np.array(["area" in a for a in anns], bool)
        if has.any():
            area = area.copy()
            area[has] = _numbers([a["area"] for a in anns if "area" in a], p, "area", "annotations")
    else:
        area = bbox[:, 2] * bbox[:, 3] if len(anns) else np.zeros(0)
    if not np.isfinite(area).all() or (area < 0).any():
        raise InputError("'area' must be finite and >= 0", _name(p), "annotations.area")
    crowd_raw = [a.get("iscrowd", 0) for a in anns]
    if not set(map(type, crowd_raw)) <= {int, bool}:
        i, v = next((i, v) for i, v in enumerate(crowd_raw) if type(v) not in (int, bool))
        raise InputError(f"annotations[{i}] has iscrowd {str(v)[:40]!r} ({_type_name(v)}): expected 0 or 1",
                         _name(p), "annotations.iscrowd")
    crowd = np.array(crowd_raw, dtype=bool) if anns else np.zeros(0, bool)
    sizes = np.stack([_optional_number(images, "height", p, "images"), _optional_number(images, "width", p, "images")],
                     axis=1) if images else np.zeros((0, 2))
    lvis_imgs = any("neg_category_ids" in im or "not_exhaustive_category_ids" in im for im in images)
    neg = nex = None
    if lvis_imgs:
        neg = _id_lists(images, "neg_category_ids", cat_ids, p)
        nex = _id_lists(images, "not_exhaustive_category_ids", cat_ids, p)
    names = [str(c["name"]) for c in cats]
    has_counts = all("image_count" in c for c in cats)
    if any("image_count" in c for c in cats) and not has_counts:
        i = next(i for i, c in enumerate(cats) if "image_count" not in c)
        raise InputError(f"categories[{i}] (id {cats[i].get('id')}) has no image_count while others have one",
                         _name(p), "categories.image_count")
    img_count = _count_field(cats, "image_count", p) if has_counts else None
    inst = _count_field(cats, "instance_count", p) if has_counts and any("instance_count" in c for c in cats) \
        else None
    freq = None
    if any("frequency" in c for c in cats):
        freq = np.array([c.get("frequency") for c in cats], dtype=object)
        bad = [i for i, f in enumerate(freq) if f not in ("r", "c", "f")]
        if bad:
            raise InputError(f"categories[{bad[0]}] has frequency {str(freq[bad[0]])[:20]!r}: LVIS 'frequency' must be "
                             "one of r, c, f", _name(p), "categories.frequency")
    has_seg = any("segmentation" in a for a in anns[:100])
    return build_detection_gt(img_ids, sizes, ann_id, ann_img, ann_cat, bbox, area, crowd, cat_ids, names, img_count,
                              inst, freq, neg, nex, has_seg, d, p)


def _images_per_class(ann_img: np.ndarray, ci: np.ndarray, n_classes: int) -> np.ndarray:
    """Distinct images per class index (C,) of annotations (image id, class index)."""
    if not len(ci):
        return np.zeros(n_classes, np.int64)
    lo, hi = int(ann_img.min()), int(ann_img.max())
    span = hi - lo + 1
    if 0 < span and n_classes * span < 2 ** 62:
        keys = np.unique(ci.astype(np.int64) * span + (ann_img - lo))
        return np.bincount(keys // span, minlength=n_classes)
    pairs = np.unique(np.stack([ann_img, ci]), axis=1)
    return np.bincount(pairs[1], minlength=n_classes)


def build_detection_gt(img_ids, sizes, ann_id, ann_img, ann_cat, bbox, area, crowd, cat_ids, names, img_count,
                       inst, freq, neg, nex, has_seg: bool, raw, source: str, ann_ignore=None) -> DetectionGT:
    """:class:`DetectionGT` from validated columns (the last step of :func:`load_detection_gt`;
    also used by the compiled reader :func:`lt_core.detection.fastjson.load_gt_fast`).

    ``img_count`` / ``inst``: the categories' ``image_count`` / ``instance_count`` (None when the
    file has none: counted in the file); ``freq``: the ``frequency`` letters or None.
    """
    p = source
    n_cats = len(cat_ids)
    table0 = ClassTable(cat_ids, names, np.zeros(n_cats, np.int64), source=_name(p))
    ci = table0.index_of(ann_cat) if len(ann_cat) else np.zeros(0, np.int64)
    has_counts = img_count is not None
    if not has_counts:
        img_count = _images_per_class(ann_img, ci, n_cats)
        inst = np.bincount(ci, minlength=n_cats)
    elif inst is None:
        inst = np.zeros(n_cats, np.int64)
    fname = Path(str(p)).name
    if has_counts and freq is not None and _contradicts_frequency(img_count, freq):
        # e.g. a val subset whose image_count was recounted on its own images: not train counts
        count_source = f"the evaluation split: image_count in {fname} (it contradicts the train frequency letters)"
    elif has_counts:
        count_source = f"image_count in {fname}"
    else:
        count_source = f"the evaluation split: images per class in {fname}"
    table = ClassTable(cat_ids, names, img_count, inst, freq, _name(p), count_source)
    return DetectionGT(img_ids, sizes, ann_id, ann_img, ann_cat, bbox, area, crowd, table, neg, nex, has_seg, raw, p,
                       has_image_count=has_counts, ann_ignore=ann_ignore)


def load_detection_results(path, gt: DetectionGT | None = None, name: str | None = None) -> DetectionResults:
    """COCO results JSON (a list of {image_id, category_id, bbox|segmentation, score}).

    With ``gt``, unknown image ids and category ids are errors (as in pycocotools ``loadRes``).
    Segmentation-only results get their bbox from the RLE (pycocotools mask utilities).
    """
    p = Path(path)
    try:
        d = read_json(p)
    except InputError:
        d = _json_with_nan(p)  # Python's json writes NaN / Infinity; say "non-finite score", not "invalid JSON"
    return _results_from_list(d, gt, name or _file_name(p).split(".")[0], _name(p))


def _json_with_nan(p: Path):
    """Parse a file orjson refused with Python's json when it holds ``NaN`` / ``Infinity`` (which
    ``json.dump`` writes); otherwise re-raise the orjson error."""
    raw = _read_bytes(p)
    if b"NaN" not in raw and b"Infinity" not in raw:
        return read_json(p)
    import json

    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return read_json(p)


def _results_from_list(d: Any, gt: DetectionGT | None, name: str, source: str) -> DetectionResults:
    """Validate parsed COCO results (see :func:`load_detection_results`)."""
    p = source
    if isinstance(d, dict) and "annotations" in d and isinstance(d["annotations"], list) and "images" not in d:
        d = d["annotations"]
    if not isinstance(d, list):
        raise InputError("expected COCO results (a JSON list of {image_id, category_id, bbox, score}) or ground "
                         "truth (an object with images, annotations, categories)", _name(p))
    if not d:
        raise InputError("the results list is empty", _name(p))
    for i, o in enumerate(d):
        if not isinstance(o, dict):
            raise InputError(f"entry {i} is {type(o).__name__}, expected an object", _name(p))
    miss = next(((i, k) for i, o in enumerate(d) for k in ("image_id", "category_id", "score") if k not in o), None)
    if miss:
        raise InputError(f"entry {miss[0]} has no '{miss[1]}'", _name(p), miss[1])
    img = _int_ids([o["image_id"] for o in d], p, "image_id", "entry")
    cat = _int_ids([o["category_id"] for o in d], p, "category_id", "entry")
    score = _numbers([o["score"] for o in d], p, "score", "entry")
    if not np.isfinite(score).all():
        i = int(np.flatnonzero(~np.isfinite(score))[0])
        raise InputError(f"{int((~np.isfinite(score)).sum())} non-finite scores (NaN/inf), first at entry {i}",
                         _name(p), "score")
    seg = None
    if all("bbox" in o for o in d):
        bbox = _bbox_array([o["bbox"] for o in d], p, "bbox")
        if any("segmentation" in o for o in d[:10]):
            seg = [o.get("segmentation") for o in d]
            _check_rles(seg, p)
    elif all("segmentation" in o for o in d):
        seg = [o["segmentation"] for o in d]
        _check_rles(seg, p)
        from pycocotools import mask as mask_utils

        rles = [dict(s, counts=s["counts"].encode() if isinstance(s["counts"], str) else s["counts"]) for s in seg]
        try:
            bbox = np.asarray(mask_utils.toBbox(rles), dtype=np.float64).reshape(-1, 4)
        except Exception as e:
            raise InputError(f"cannot decode RLE masks: {e}", _name(p), "segmentation")
    else:
        raise InputError("every detection needs a 'bbox' (or, for masks, an RLE 'segmentation')", _name(p), "bbox")
    if gt is not None:
        unk = ~np.isin(cat, gt.categories.ids)
        if unk.any():
            raise InputError(f"{int(unk.sum())} detections have category ids not in the ground truth, e.g. "
                             f"{np.unique(cat[unk])[:5].tolist()}", _name(p), "category_id")
        unk = ~np.isin(img, gt.image_ids)
        if unk.any():
            raise InputError(f"{int(unk.sum())} detections are on image ids not in the ground truth, e.g. "
                             f"{np.unique(img[unk])[:5].tolist()}", _name(p), "image_id",
                             hint="results must correspond to the ground-truth file")
    return DetectionResults(name, img, cat, bbox, score, seg, _name(p))
