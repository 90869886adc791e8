# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The window's edges
#
# Was the window drawn in the right place, and does it matter which clock we trust? For every
# payment within 30 minutes of an edge, the warehouse keeps both clocks
# (`run_edge_transactions`): the log's first failure line and the transaction table's
# `created_at`. The credit rules use the log's time; `table_only` payments use the table's.

# %%

import matplotlib.pyplot as plt
import pandas as pd

from transforms.serving import analysis, support

# %% tags=["parameters"]
incident_id = "INC-2025-01-07"
warehouse_path = "../data/warehouse.duckdb"

# %%
con = support.connect(warehouse_path)
run = analysis.pick_run(con, incident_id)
edges = analysis.edge_transactions(con, run)
minutes = analysis.failure_minutes(con, run)
print(f"{run.incident_id}: run {run.run_id} ({run.status}); times in {run.timezone}")
starts, ends = (edges["edge"] == "start").sum(), (edges["edge"] == "end").sum()
print(f"{len(edges):,} payments near an edge: {starts:,} at the start, {ends:,} at the end")

# %% [markdown]
# ## Failure lines per minute around each edge
#
# One hour either side; the dashed line is the edge.

# %%
totals = analysis.per_minute(minutes, run)
fig, axes = plt.subplots(1, 2, figsize=(13, 3.5), sharey=True)
for ax, (name, edge) in zip(
    axes, [("start", run.window_start_utc), ("end", run.window_end_utc)], strict=True
):
    local = pd.Timestamp(edge).tz_convert(run.timezone)
    near = totals.loc[local - pd.Timedelta("60min") : local + pd.Timedelta("60min")]
    ax.step(near.index, near["lines"], where="post", color="#c0392b")
    ax.axvline(local, color="#2c3e50", ls="--")
    ax.set_title(f"window {name}: {analysis.clock(edge, run)}")
axes[0].set_ylabel("failure lines / minute")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Payments near the edges: log time against table time
#
# Each point is a payment; x is the log's first failure and y the table's `created_at`, both in
# seconds from the edge. Points in the off-diagonal quadrants are payments the two clocks put on
# different sides of the edge.

# %%
both = edges.dropna(subset=["log_seconds_from_edge", "table_seconds_from_edge"])
classes = both["class"].fillna("not a candidate")
colors = {cls: f"C{i}" for i, cls in enumerate(sorted(classes.unique()))}  # same in both
fig, axes = plt.subplots(1, 2, figsize=(13, 5.4), layout="constrained")
for ax, name in zip(axes, ["start", "end"], strict=True):
    part = both[both["edge"] == name]
    for cls, group in part.groupby(classes[part.index]):
        ax.scatter(
            group["log_seconds_from_edge"],
            group["table_seconds_from_edge"],
            s=12,
            label=cls,
            alpha=0.7,
            color=colors[cls],
        )
    ax.axvline(0, color="#2c3e50", lw=0.8)
    ax.axhline(0, color="#2c3e50", lw=0.8)
    ax.set_xlim(-120, 120)
    ax.set_ylim(-120, 120)
    ax.set_xlabel("log: seconds from the edge")
    ax.set_ylabel("table: seconds from the edge")
    ax.set_title(f"window {name} (zoomed to 2 minutes)")
# one legend for both, below them: it never covers a point
shown = {label: h for ax in axes for h, label in zip(*ax.get_legend_handles_labels(), strict=True)}
fig.legend(shown.values(), shown.keys(), loc="outside lower center", ncols=4)
plt.show()

# %% [markdown]
# ## The payments the two clocks disagree on

# %%
columns = [
    "txn_id",
    "edge",
    "class",
    "log_first_failure_local",
    "table_created_at_local",
    "log_minus_table_seconds",
    "log_error_codes",
    "table_status",
]
edges.loc[edges["clocks_disagree"], columns]

# %% [markdown]
# ## Clock skew: how much later the log's failure is than the table's `created_at`
#
# Mostly the failing attempt's latency (a pool timeout takes 30 s); a negative value, or one
# far above the longest timeout, points at a clock that is off.

# %%
skew = both["log_minus_table_seconds"]
print(skew.describe().round(3).to_string())
fig, ax = plt.subplots(figsize=(8, 3))
skew.clip(-5, 65).plot.hist(bins=70, ax=ax)
ax.set_xlabel("log first failure - table created_at (s), clipped to [-5, 65]")
plt.show()
print(f"log earlier than table: {(skew < 0).sum():,} payments")

# %% [markdown]
# ## Outage codes just outside the window
#
# Failures with an outage code in the 30 minutes before the start or after the end: early
# symptoms or a tail the window does not cover (not credited).

# %%
outside = edges[~edges["inside_by_log"] & edges["log_first_failure_utc"].notna()]
codes = outside["log_error_codes"].fillna("").str.split(",")
has_outage_code = codes.map(lambda listed: bool(set(listed) & set(run.outage_error_codes)))
outside.loc[
    has_outage_code,
    [
        "txn_id",
        "edge",
        "log_first_failure_local",
        "log_seconds_from_edge",
        "log_error_codes",
        "table_status",
    ],
]

# %%
con.close()
