"""Frequency bins (head / medium / tail), always defined by TRAIN counts.

Schemes
-------
``imagenet-lt``  many > 100, medium 20-100, few < 20 training samples (Liu et al. 2019; Kang et al. 2020).
``lvis``         frequent > 100, common 11-100, rare 1-10 training images (Gupta et al. 2019).
``quantile:K``   K groups with (nearly) equal numbers of classes, by train-count rank.
``custom:A,B``   few < A, medium A..B, many > B (any number of increasing thresholds).

Classes with zero training samples get their own bin, ``"no training data"``: never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError

__all__ = ["BinScheme", "parse_bins", "assign_bins", "NO_DATA", "BIN_SCHEMES", "BinChoice", "choose_bin_scheme"]

NO_DATA = "no training data"
BIN_SCHEMES = ("imagenet-lt", "lvis", "quantile:3", "custom:20,100")


@dataclass(frozen=True)
class BinScheme:
    """A rule that maps train counts to ordered bins (head first).

    Attributes
    ----------
    spec : str
        The text form, e.g. ``"imagenet-lt"``, ``"quantile:3"``, ``"custom:20,100"``.
    names : tuple of str
        Bin names, head first (``NO_DATA`` excluded; it is appended when present).
    roles : tuple of str
        For each name, its colour role: ``"head"``, ``"medium"`` or ``"tail"`` (or
        ``"mid<k>"`` for extra middle bins).
    thresholds : tuple of float
        Increasing lower edges for count-based schemes: class goes to the bin whose range
        holds its count. Empty for quantile schemes.
    quantiles : int
        K for ``quantile:K`` schemes, else 0.
    """

    spec: str
    names: tuple[str, ...]
    roles: tuple[str, ...]
    thresholds: tuple[float, ...] = ()
    quantiles: int = 0

    def assign(self, train_counts: np.ndarray) -> np.ndarray:
        """Bin name per class, shape (C,), dtype object. Zero counts give ``NO_DATA``."""
        return assign_bins(train_counts, self)

    def order(self, present: np.ndarray | list[str] | None = None) -> list[str]:
        """Bin names head first, ``NO_DATA`` last; only those in ``present`` if given."""
        names = list(self.names) + [NO_DATA]
        if present is None:
            return names
        s = set(np.asarray(present, dtype=object).tolist())
        return [n for n in names if n in s]

    def role(self, name: str) -> str:
        """Colour role of a bin name (``"none"`` for ``NO_DATA``)."""
        if name == NO_DATA:
            return "none"
        return self.roles[self.names.index(name)]


def _count_scheme(spec: str, cuts: list[float], names_head_first: list[str] | None = None) -> BinScheme:
    k = len(cuts) + 1
    if names_head_first is None:
        if k == 2:
            names_head_first = ["head", "tail"]
        elif k == 3:
            names_head_first = ["many", "medium", "few"]
        else:
            names_head_first = [f"bin {i + 1}" for i in range(k)]
    roles = _roles(k)
    return BinScheme(spec=spec, names=tuple(names_head_first), roles=roles, thresholds=tuple(cuts))


def _roles(k: int) -> tuple[str, ...]:
    if k == 1:
        return ("head",)
    if k == 2:
        return ("head", "tail")
    mids = ["medium"] if k == 3 else [f"mid{i}" for i in range(1, k - 1)]
    return tuple(["head", *mids, "tail"])


def parse_bins(spec: str | BinScheme) -> BinScheme:
    """Parse a bin-scheme spec (``imagenet-lt``, ``lvis``, ``quantile:K``, ``custom:A,B``)."""
    if isinstance(spec, BinScheme):
        return spec
    s = str(spec).strip().lower()
    if s in ("imagenet-lt", "imagenet_lt", "imagenetlt", "places-lt"):
        # few: n < 20, medium: 20 <= n <= 100, many: n > 100
        return BinScheme(spec="imagenet-lt", names=("many", "medium", "few"),
                         roles=("head", "medium", "tail"), thresholds=(20, 101))
    if s == "lvis":
        # rare: 1-10, common: 11-100, frequent: > 100
        return BinScheme(spec="lvis", names=("frequent", "common", "rare"),
                         roles=("head", "medium", "tail"), thresholds=(11, 101))
    if s.startswith("quantile:") or s.startswith("quantile"):
        arg = s.split(":", 1)[1] if ":" in s else "3"
        try:
            k = int(arg)
        except ValueError:
            raise InputError(f"expected quantile:K with an integer K >= 2, got '{spec}'", field="bins")
        if not 2 <= k <= 20:
            raise InputError(f"quantile:K needs 2 <= K <= 20, got K={k}", field="bins")
        names = ("head", "medium", "tail") if k == 3 else tuple(f"Q{i + 1}" for i in range(k))
        return BinScheme(spec=f"quantile:{k}", names=names, roles=_roles(k), quantiles=k)
    if s.startswith("custom:"):
        try:
            cuts = [float(x) for x in s.split(":", 1)[1].split(",") if x.strip()]
        except ValueError:
            raise InputError(f"expected custom:A,B with increasing numbers, got '{spec}'", field="bins")
        if not cuts or any(b <= a for a, b in zip(cuts, cuts[1:])) or cuts[0] <= 0:
            raise InputError(f"custom thresholds must be positive and increasing, got '{spec}'",
                             field="bins", hint="e.g. custom:20,100 = few < 20, medium 20-100, many > 100")
        # custom:A,B  ->  few < A, A <= medium <= B, many > B  (B is inclusive, as imagenet-lt)
        edges = [cuts[0]] + [c + 1 if float(c).is_integer() else np.nextafter(c, np.inf) for c in cuts[1:]]
        return _count_scheme(f"custom:{','.join(_fmt(c) for c in cuts)}", edges)
    raise InputError(f"unknown bin scheme '{spec}'", field="bins",
                     hint="use imagenet-lt, lvis, quantile:K or custom:A,B")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def assign_bins(train_counts: np.ndarray, scheme: str | BinScheme) -> np.ndarray:
    """Assign each class a bin from its TRAIN count.

    Parameters
    ----------
    train_counts : array of shape (C,)
        Training samples (classification) or training images (detection) per class.
    scheme : str or BinScheme

    Returns
    -------
    ndarray of shape (C,), dtype object
        Bin name per class; ``NO_DATA`` where the count is 0.
    """
    sch = parse_bins(scheme)
    n = np.asarray(train_counts, dtype=np.float64)
    out = np.empty(n.shape[0], dtype=object)
    zero = n <= 0
    if sch.quantiles:
        k = sch.quantiles
        idx = np.flatnonzero(~zero)
        # rank classes by count, head first; ties broken by class index (stable)
        order = idx[np.argsort(-n[idx], kind="stable")]
        groups = np.array_split(order, k) if len(order) else [np.array([], int)] * k
        for name, g in zip(sch.names, groups):
            out[g] = name
    else:
        # thresholds are lower edges of bins tail..head; names are head first
        code = np.searchsorted(np.asarray(sch.thresholds), n, side="right")  # 0 = tail
        names_tail_first = sch.names[::-1]
        out[:] = np.asarray(names_tail_first, dtype=object)[np.clip(code, 0, len(names_tail_first) - 1)]
    out[zero] = NO_DATA
    return out


# ----------------------------------------------------------------------------------------------
# the scheme that fits the data
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BinChoice:
    """The bin scheme chosen for a dataset, and why (one sentence a page can show).

    Attributes
    ----------
    spec : str
        A spec :func:`parse_bins` reads.
    reason : str
        Why this scheme fits the data.
    """

    spec: str
    reason: str


_FREQ_NAMES = {"r": "rare", "c": "common", "f": "frequent"}


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when the two labellings group the classes identically (names may differ)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def _groups_as_thresholds(counts: np.ndarray, groups: np.ndarray) -> list[float] | None:
    """Count thresholds that reproduce ``groups`` exactly, or None when no thresholds can.

    The groups must be disjoint count intervals; the cut between two neighbouring groups is put
    at the lower count of the higher group (so ``custom:A,B`` gives few < A, many > B).
    """
    pos = counts > 0
    if not pos.any():
        return None
    names = list(dict.fromkeys(groups[pos].tolist()))
    spans = sorted(((counts[pos][groups[pos] == g].min(), counts[pos][groups[pos] == g].max(), g) for g in names),
                   key=lambda t: t[0])
    if any(hi >= lo2 for (_, hi, _), (lo2, _, _) in zip(spans, spans[1:])):
        return None
    if len(spans) < 2:
        return None
    # custom:A,B,... means: bin 0 < A, A <= bin 1 <= B, ... > last (B inclusive), see parse_bins
    cuts = [float(spans[1][0])] + [float(lo - 1) for lo, _, _ in spans[2:]]
    if any(b <= a for a, b in zip(cuts, cuts[1:])):
        return None
    return cuts


def choose_bin_scheme(train_counts: np.ndarray, *, groups: np.ndarray | None = None, group_column: str = "",
                      frequency: np.ndarray | None = None, detection: bool = False,
                      default: str | None = None) -> BinChoice:
    """The bin scheme that fits a dataset's TRAIN counts (what the sidebar switches to on load).

    Rules, in order:

    1. LVIS categories with a ``frequency`` field (r / c / f): ``lvis`` (Gupta et al. 2019); the
       reason says whether the counts reproduce the field.
    2. A counts file with its own group column (e.g. ImageNet-LT's ``shot_group``): the named
       count scheme that reproduces it exactly (``imagenet-lt`` or ``lvis``), else ``custom:A,B``
       thresholds that reproduce it, else ``imagenet-lt`` with a reason saying the groups are not
       count intervals.
    3. Detection without ``frequency``: ``lvis`` (rare 1-10, common 11-100, frequent > 100 images).
    4. Classification with train counts: ``imagenet-lt`` (many > 100, medium 20-100, few < 20;
       Liu et al. 2019, Kang et al. 2020), unless it puts every class in one bin; then
       ``quantile:3`` (thirds by train-count rank).
    5. No train counts at all: ``default`` (or ``imagenet-lt``): every class is "no training data".

    Parameters
    ----------
    train_counts : ndarray (C,)
        TRAIN samples (classification) or images (detection) per class.
    groups : ndarray (C,) object, optional
        The counts file's own per-class group names.
    frequency : ndarray (C,) object, optional
        LVIS frequency letters.
    detection : bool
        The dataset is a detection dataset.
    default : str, optional
        The dataset's own default scheme (used when there are no counts).

    Returns
    -------
    BinChoice
    """
    n = np.asarray(train_counts, dtype=np.float64)
    pos = n > 0
    if frequency is not None:
        freq = np.asarray([_FREQ_NAMES.get(str(f), str(f)) for f in frequency], dtype=object)
        got = assign_bins(n, "lvis")
        agree = int((got[pos] == freq[pos]).sum())
        if agree == int(pos.sum()):
            return BinChoice("lvis", "the categories carry LVIS 'frequency' (r / c / f), and the train image counts "
                                     "reproduce it (rare 1-10, common 11-100, frequent > 100; Gupta et al. 2019)")
        return BinChoice("lvis", f"the categories carry LVIS 'frequency' (r / c / f); the image counts here agree "
                                 f"with it for {agree:,} of {int(pos.sum()):,} categories, so they are not the "
                                 "train counts the field was made from")
    if groups is not None and pos.any():
        g = np.asarray(groups, dtype=object)
        col = f"'{group_column}'" if group_column else "group"
        for spec in ("imagenet-lt", "lvis"):
            if _same_partition(assign_bins(n, spec)[pos], g[pos]):
                sizes = " / ".join(f"{int((assign_bins(n, spec) == b).sum()):,}" for b in parse_bins(spec).names)
                return BinChoice(spec, f"reproduces the counts file's {col} column exactly "
                                       f"({'/'.join(parse_bins(spec).names)} = {sizes} classes)")
        cuts = _groups_as_thresholds(n, g)
        if cuts is not None:
            spec = parse_bins("custom:" + ",".join(_fmt(c) for c in cuts)).spec
            if _same_partition(assign_bins(n, spec)[pos], g[pos]):
                return BinChoice(spec, f"thresholds that reproduce the counts file's {col} column exactly")
        return BinChoice("imagenet-lt", f"the counts file's {col} column is not a set of train-count ranges, so "
                                        "the standard many > 100, medium 20-100, few < 20 (Kang et al. 2020) is used")
    if detection:
        return BinChoice("lvis", "detection: rare 1-10, common 11-100, frequent > 100 training images "
                                 "(Gupta et al. 2019)")
    if not pos.any():
        return BinChoice(default or "imagenet-lt", "no train counts: every class is in 'no training data'")
    b = assign_bins(n, "imagenet-lt")
    if len(set(b[pos].tolist())) >= 2:
        return BinChoice("imagenet-lt", "classification with train counts: many > 100, medium 20-100, few < 20 "
                                        "(Liu et al. 2019; Kang et al. 2020)")
    return BinChoice("quantile:3", f"every class falls in the imagenet-lt '{b[pos][0]}' bin, so the classes are "
                                   "split in thirds by train count instead")
