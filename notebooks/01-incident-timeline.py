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
# # Incident timeline
#
# When did payments start failing, how far above the normal rate, with which error codes and on
# which pods? Everything comes from the pipeline's own results in the warehouse
# (`run_failure_minutes`: failure log lines per minute over the whole log, duplicates once).
# Times are in the incident's time zone; the shaded band is the outage window `[start, end)`.

# %%
from zoneinfo import ZoneInfo

import matplotlib.pyplot as plt

from transforms.serving import analysis, support

# %% tags=["parameters"]
incident_id = "INC-2025-01-07"
warehouse_path = "../data/warehouse.duckdb"

# %%
con = support.connect(warehouse_path)
run = analysis.pick_run(con, incident_id)
start = run.window_start_utc.astimezone(ZoneInfo(run.timezone))  # plots take the data's zone
end = run.window_end_utc.astimezone(ZoneInfo(run.timezone))
minutes = analysis.failure_minutes(con, run)
print(f"{run.incident_id}: {run.title}")
print(f"run {run.run_id} ({run.status}); times in {run.timezone}")
print(f"window {analysis.clock(start, run)} to {analysis.clock(end, run)}")
if minutes.empty:  # a window on the wrong day opens no log file; or the rows were deleted
    print(
        f"no failure line: run {run.run_id} read no failure line (the warehouse's"
        " run_failure_minutes holds none of it), so there is no outage to show; check the"
        " incident file's window and sources.logs (`credits window FILE` reads all its logs)"
    )
else:
    print(f"{int(minutes['lines'].sum()):,} failure lines")


def shade_window(ax):
    """The outage window as a shaded band."""
    ax.axvspan(start, end, color="#f4a261", alpha=0.25, lw=0, label="outage window")


# %% [markdown]
# ## Failures per minute against the normal rate
#
# The normal rate is the mean number of failure lines per minute outside the window, and
# outside the outage the detection below finds there (a window too narrow leaves some outside).

# %%
checked = analysis.window_check(con, run)
found = analysis.detection(minutes, run, checked)
totals = analysis.per_minute(minutes, run)
normal = analysis.normal_rate(minutes, run, found)
inside = totals[analysis.in_window(totals.index.to_series(), run)]
fig, ax = plt.subplots(figsize=(12, 3.5))
shade_window(ax)
ax.plot(totals.index, totals["lines"], lw=0.7, color="#c0392b", label="failure lines / minute")
ax.axhline(normal, color="#2c3e50", ls="--", lw=1, label=f"normal rate {normal:.1f} / min")
ax.set_ylabel("failure lines / minute")
ax.legend(
    loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, frameon=False
)  # beside the axes
ax.set_title(f"{run.incident_id}: payment failures per minute ({run.timezone})")
plt.show()
if not minutes.empty:
    rate = inside["lines"].mean() if len(inside) else 0.0  # none near the window
    ratio = f"{rate / normal:.0f}x the normal rate" if normal else "none outside it"
    print(f"inside the window: {rate:.1f} / min; {ratio}")

# %% [markdown]
# ## When did it start and end?
#
# The detection of the run's window_check and of `credits window` (`window.detect`, with the
# settings the run's manifest recorded): outage-coded failure lines per minute against a
# baseline, the median and MAD of the minutes outside the window. A minute is above baseline
# when it exceeds the median by at least `mad_multiplier` robust standard deviations and
# `min_rise_lines` lines; short dips (`max_gap`) do not split an outage, short stretches
# (`min_duration`) are noise. `credits window INCIDENT.toml` reads every log file and shows what
# the detected window would change.

# %%
if not minutes.empty:  # else nothing to check or detect (said above)
    print(f"window check: {checked.status if checked else 'not in this run'}")
    for message in checked.messages if checked else ():  # what the run's summary said
        print(f"  {message}")
    if found.baseline is None:
        print(f"no baseline: {found.problem}")
    else:
        print(
            f"baseline {found.baseline.median:g} outage-coded lines / min"
            f" (MAD {found.baseline.mad:g}); above it: {found.baseline.threshold:g} or more"
        )
    for outage in found.intervals:
        print(
            f"outage {analysis.clock(outage.onset_utc, run)} to "
            f"{analysis.clock(outage.recovery_utc, run)}: {outage.lines:,} lines, "
            f"{outage.rate_during:.1f} / min (before: {outage.rate_before or 0:.1f} / min); "
            + ", ".join(f"{code} {n:,}" for code, n in outage.codes)
        )
    if found.baseline is not None and not found.intervals:
        print(
            "no outage found: outage-coded failures stay at baseline, inside the declared"
            " window too; if the logs hold little but the outage, the baseline is the outage"
            " itself"
        )
print(f"declared window {analysis.clock(start, run)} to {analysis.clock(end, run)}")

# %% [markdown]
# ## By error code (15-minute bins)

# %%
minutes["code"] = minutes["error_code"].fillna("(no code)")
codes = analysis.per_minute(minutes, run, by="code").resample("15min").sum()
fig, ax = plt.subplots(figsize=(12, 4))
shade_window(ax)
if not codes.empty:  # stackplot takes no empty frame
    ax.stackplot(codes.index, codes.T.to_numpy(), labels=codes.columns, step="post")
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize="small", frameon=False
    )
ax.set_ylabel("failure lines / 15 min")
plt.show()
minutes.pivot_table(
    index="code", columns="in_window", values="lines", aggfunc="sum", fill_value=0
).rename(columns={False: "outside", True: "inside"})

# %% [markdown]
# ## By pod (15-minute bins)
#
# The pod is read from the log file's name; an outage that hits one pod only points elsewhere.

# %%
pods = analysis.per_minute(minutes, run, by="pod").resample("15min").sum()
fig, ax = plt.subplots(figsize=(12, 3.5))
shade_window(ax)
for pod in pods.columns:
    ax.step(pods.index, pods[pod], where="post", lw=1, label=pod)
if len(pods.columns):  # no failure line: no pod, no legend
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize="small", frameon=False
    )
ax.set_ylabel("failure lines / 15 min")
plt.show()
con.close()
