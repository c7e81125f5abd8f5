"""SMOTE family: identical to imbalanced-learn for the same seed; small classes handled and reported."""
import numpy as np
import pytest
from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler

from lt_core.errors import InputError
from lt_core.rebalance import smote_pca_view, smote_resample


def make_data(counts, d=12, dtype=np.float32, seed=0, spread=0.5):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(counts)), counts)
    centers = rng.normal(scale=spread, size=(len(counts), d))
    X = (centers[y] + rng.normal(size=(len(y), d))).astype(dtype)
    return X, y


REF = {"smote": lambda s, k, seed: SMOTE(sampling_strategy=s, k_neighbors=k, random_state=seed),
       "borderline-smote": lambda s, k, seed: BorderlineSMOTE(sampling_strategy=s, k_neighbors=k, random_state=seed),
       "adasyn": lambda s, k, seed: ADASYN(sampling_strategy=s, n_neighbors=k, random_state=seed),
       "random-over": lambda s, k, seed: RandomOverSampler(sampling_strategy=s, random_state=seed)}


@pytest.mark.parametrize("method", list(REF))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_identical_to_imbalanced_learn(method, dtype):
    X, y = make_data([300, 90, 40, 15], dtype=dtype)
    for strategy, k, seed in [("auto", 5, 0), ("not majority", 3, 7), ({1: 120, 3: 60}, 4, 11)]:
        X_res, y_res, info = smote_resample(X, y, method, strategy, k, seed)
        X_ref, y_ref = REF[method](strategy, k, seed).fit_resample(X, y)
        np.testing.assert_array_equal(X_res, X_ref)
        np.testing.assert_array_equal(y_res, y_ref)
        assert X_res.dtype == dtype
        assert info["n_original"] == len(y) and info["n_synthetic"] == len(y_res) - len(y)
        assert info["notes"] == []


def test_lean_engine_equals_imblearn_engine():
    X, y = make_data([500, 50, 9, 6], d=32)
    a = smote_resample(X, y, "smote", seed=3)
    b = smote_resample(X, y, "smote", seed=3, engine="imblearn")
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_original_rows_kept_and_synthetic_rows_interpolate():
    X, y = make_data([200, 30])
    X_res, y_res, info = smote_resample(X, y, seed=1)
    np.testing.assert_array_equal(X_res[: len(y)], X)
    np.testing.assert_array_equal(np.bincount(y_res), [200, 200])
    syn = X_res[len(y):]
    Xc = X[y == 1]
    # every synthetic point lies within the bounding box of its class (convex combination of two members)
    assert (syn >= Xc.min(axis=0) - 1e-5).all() and (syn <= Xc.max(axis=0) + 1e-5).all()


@pytest.mark.parametrize("method", ["smote", "borderline-smote", "adasyn"])
def test_small_classes_are_reported_not_fatal(method):
    X, y = make_data([300, 60, 3, 1])
    if method != "borderline-smote":  # (Borderline-SMOTE fails only when the class has danger samples)
        with pytest.raises(ValueError):  # imbalanced-learn itself fails on a 3-sample class with k = 5
            REF[method]("auto", 5, 0).fit_resample(X, y)
    X_res, y_res, info = smote_resample(X, y, method, k_neighbors=5, seed=0)
    rows = {r["class"]: r for r in info["classes"]}
    assert rows[2]["k_used"] == 2 and "reduced to 2" in rows[2]["action"]
    assert rows[3]["k_used"] == 0 and "copied" in rows[3]["action"]
    assert len(info["notes"]) == 2
    assert rows[2]["after"] == rows[3]["after"] == 300
    single = X[y == 3][0]
    assert (X_res[len(y):][y_res[len(y):] == 3] == single).all()
    # a class with 3 samples uses SMOTE with k = 2: identical to imbalanced-learn run with k = 2 on it
    X2 = X[np.isin(y, [0, 2])]
    y2 = y[np.isin(y, [0, 2])]
    Xr, yr = SMOTE(sampling_strategy={2: 300}, k_neighbors=2, random_state=0).fit_resample(X2, y2)
    np.testing.assert_array_equal(X_res[len(y):][y_res[len(y):] == 2], Xr[len(y2):])


def test_adasyn_undefined_class_falls_back_to_smote():
    X, y = make_data([300, 40], spread=50.0)  # classes far apart: no minority sample has a majority neighbour
    with pytest.raises(RuntimeError):
        ADASYN(random_state=0).fit_resample(X, y)
    X_res, y_res, info = smote_resample(X, y, "adasyn", seed=0)
    assert np.bincount(y_res).tolist() == [300, 300]
    assert "ADASYN undefined" in info["classes"][1]["action"]
    ref = SMOTE(random_state=0).fit_resample(X, y)[0]
    np.testing.assert_array_equal(X_res, ref)


def test_pca_view():
    X, y = make_data([200, 30], d=8)
    X_res, y_res, info = smote_resample(X, y, seed=1)
    df = smote_pca_view(X, y, X_res, y_res, info["n_original"], 1, max_points=50)
    assert set(df["kind"]) == {"real", "synthetic"}
    assert (df["kind"] == "real").sum() == 30 and (df["kind"] == "synthetic").sum() == 50
    assert np.isfinite(df[["pc1", "pc2"]].to_numpy()).all()


@pytest.mark.parametrize("args", [dict(method="tomek"), dict(k_neighbors=0), dict(sampling_strategy="sideways"),
                                  dict(X=np.zeros((3, 2, 1))), dict(X=np.array([[np.nan, 0.0]] * 4)),
                                  dict(y=np.array([0.5, 1, 1, 0]))])
def test_bad_input_is_input_error(args):
    X = args.pop("X", np.random.default_rng(0).normal(size=(4, 2)))
    y = args.pop("y", np.array([0, 0, 0, 1]))
    with pytest.raises(InputError):
        smote_resample(X, y, **args)
