"""Distribution: how long is my tail, and where are the bins?"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lt_core.bins import NO_DATA
from lt_core.distribution import distribution_summary, split_counts
from lt_core.errors import InputError
from lt_core.plots import distribution as dplots
from ui import state

st.title("Distribution")
st.caption("How long is my tail, and where are the bins?")

ds = state.classification()
if ds is None:
    st.info("Load a classification dataset on the **Data** page (or use the demo there).", icon=":material/info:")
    st.stop()
scheme = state.bin_scheme()

c = st.columns([2, 2, 3])
counts = split_counts(ds)
split = c[0].radio("Counts of split", list(counts), index=0, horizontal=True, key="d_split",
                   help="Which split the long-tail chart draws; classes stay in TRAIN-count order and bins always "
                        "come from TRAIN counts (Kang et al. 2020 protocol).")
log = c[1].toggle("Log count axis", value=True, key="d_log", help="Tails span orders of magnitude: log by default.")
beta = c[2].select_slider("β for the effective number", options=[0.9, 0.99, 0.999, 0.9999], value=0.999, key="d_beta",
                          help="Effective number of samples E_n = (1 − β^n) / (1 − β) (Cui et al. 2019, "
                               "Class-Balanced Loss); β → 1 gives n, β = 0 gives 1.")

try:
    summ = distribution_summary(ds.classes, scheme, {k: v for k, v in counts.items() if k != "train"}, beta=beta)
except InputError as e:
    state.show_error(e, "distribution")
    st.stop()
s = summ.stats
b = summ.bins

# ---------------------------------------------------------------- the answer, first screen
names = [n for n in b.index if n != NO_DATA]
head, tail = names[0], names[-1]
m = st.columns(5)
m[0].metric("Classes", f"{s['n_classes']:,}", help=f"{s['train_samples']:,} training samples in all.")
ir = s["imbalance_ratio"]
m[1].metric("Imbalance ratio", f"{ir:,.0f}×" if ir != float("inf") else "∞",
            help="Largest / smallest train count over classes with at least one training sample "
                 "(Buda et al. 2018; ImageNet-LT: 1280 / 5 = 256).")
m[2].metric("Gini of train counts", f"{s['gini']:.3f}",
            help="0 = balanced, → 1 = all samples in one class; twice the area between the Lorenz curve and "
                 "the diagonal.")
for col, name in ((m[3], head), (m[4], tail)):
    col.metric(f"Samples in {name}", state.fmt_pct(b.loc[name, "train_share"]),
               f"{state.fmt_pct(b.loc[name, 'share_classes'])} of the classes", delta_color="off", delta_arrow="off",
               help=f"The {name} bin ({int(b.loc[name, 'n_classes']):,} classes) holds this share of the training "
                    "samples; the grey line is its share of the classes.")
bins_txt = ", ".join(f"**{n}** {int(r['n_classes']):,} classes (train {int(r['min_train']):,}–{int(r['max_train']):,})"
                     for n, r in b.iterrows())
st.caption(f"{state.kind_badge(ds)} {ds.name}{' · generated data' if ds.generated else ''} · bins **{scheme}** by TRAIN "
           f"{'positives' if ds.multi_label else 'count'} (change in the sidebar): {bins_txt}.")
if ds.multi_label:
    st.caption("Multi-label: a class's count is its **positives** (samples carrying it); a sample with several labels "
               "counts once in each, so the counts sum to more than the samples. See *Which labels ride along* below.")
if s["zero_train_classes"]:
    st.warning(f"{s['zero_train_classes']:,} classes have no training samples: they form their own grey bin "
               f"“{NO_DATA}” and are never dropped.", icon=":material/warning:")

# ---------------------------------------------------------------- the chart that explains it
st.plotly_chart(dplots.long_tail_chart(summ, split=split, log=log), key="d_tail")
c1, c2 = st.columns(2)
with c1:
    st.plotly_chart(dplots.lorenz_chart(counts), key="d_lorenz")
with c2:
    st.plotly_chart(dplots.bin_share_chart(summ), key="d_share")
if len(counts) > 1:
    others = [k for k in counts if k != "train"]
    st.plotly_chart(dplots.split_comparison_chart(summ), key="d_splits")
    cap = " · ".join(f"{k}: {s[f'{k}_samples']:,} samples, imbalance {s[f'{k}_imbalance_ratio']:,.1f}×, "
                     f"Gini {s[f'{k}_gini']:.3f}" for k in others)
    st.caption(f"Train vs {', '.join(others)}. {cap}. The usual protocol evaluates on a balanced split "
               "(Gini ≈ 0); if yours is long-tailed too, overall accuracy is dominated by the head.")
st.plotly_chart(dplots.effective_number_chart(summ), key="d_eff")

if ds.multi_label:  # label cardinality and the co-occurrence of tail labels with head labels
    from lt_core.distribution import cooccurrence_state, label_statistics, tail_head_cooccurrence
    from lt_core.plots import multilabel as mlplots

    st.subheader("Which labels ride along (multi-label)")
    co_split = "train" if "train" in ds.labels else next(iter(ds.labels))
    lab = ds.labels[co_split]
    co = state.memo("d_memo", ("co", co_split, scheme), (lab, ds.classes),
                    lambda: cooccurrence_state(lab, ds.classes, scheme))
    ls = label_statistics(lab)
    q = st.columns(4)
    q[0].metric(f"Label cardinality ({co_split})", f"{ls['label_cardinality']:.2f}",
                help="Mean number of labels per sample (Tsoumakas & Katakis 2007).")
    q[1].metric("Label density", f"{ls['label_density']:.3f}", help="Cardinality / number of classes.")
    q[2].metric("Samples with several labels", state.fmt_pct(ls["multi_share"]),
                help=f"{int(round(ls['multi_share'] * ls['n_samples'])):,} of {ls['n_samples']:,} {co_split} samples.")
    q[3].metric("Samples with no label", state.fmt_pct(ls["empty_share"]))
    cc = st.columns([2, 3])
    cc[0].plotly_chart(mlplots.label_count_chart(co.label_hist, co_split), key="d_ml_counts")
    cc[1].plotly_chart(mlplots.cooccurrence_heatmap(co, ds.classes, scheme, co_split), key="d_ml_co")
    th = tail_head_cooccurrence(co, ds.classes, scheme, k=3)
    if len(th):
        lead = th.drop_duplicates("name")
        st.caption(f"Tail labels and the head labels that come with them on {co_split}: "
                   f"{state.fmt_pct(lead['with_head_share'].mean())} of a tail label's samples also carry a head label "
                   "(mean over the tail classes) — re-sampling a tail class re-samples those head labels too. share = "
                   "P(head | tail); lift = share / P(head).")
        view = th.assign(with_head_share=100 * th["with_head_share"], share=100 * th["share"])
        st.dataframe(view, hide_index=True, column_config={c: st.column_config.NumberColumn(c, format="%.1f%%")
                                                           for c in ("with_head_share", "share")})
        state.download_csv(th, f"tail_head_cooccurrence_{co_split}.csv", key="dl_d_co")

# ---------------------------------------------------------------- tables behind it
st.subheader("Tables")
t1, t2 = st.tabs(["Per bin", "Per class"])


def _pct_view(df: pd.DataFrame, cols: list[str]) -> None:
    view = df.copy()
    for col in cols:
        view[col] = 100 * view[col]
    st.dataframe(view, hide_index=True, column_config={col: st.column_config.NumberColumn(col, format="%.1f%%")
                                                       for col in cols})


with t1:
    bt = b.reset_index()
    _pct_view(bt, [col for col in bt.columns if col.endswith("share") or col == "share_classes"])
    state.download_csv(bt, f"bins_{scheme.replace(':', '_')}.csv", key="dl_dbins")
with t2:
    pc = summ.per_class
    _pct_view(pc, ["train_share"])
    state.download_csv(pc, "class_distribution.csv", key="dl_dpc")
