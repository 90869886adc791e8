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
# # Affected customers
#
# Who the outage hurt, by segment, country and currency, what they get and what finance must
# handle by hand. The same answers as `credits customers` (the incident's answering run: the
# newest that passed the quality gate and was not declined), read through
# `transforms.serving.analysis`.

# %%

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from transforms import money
from transforms.serving import analysis, support

# %% tags=["parameters"]
incident_id = "INC-2025-01-07"
warehouse_path = "../data/warehouse.duckdb"

# %%
con = support.connect(warehouse_path)
run = analysis.pick_run(con, incident_id)
customers = analysis.customers(con, run)
payments = analysis.transactions(con, run)
exceptions = analysis.exceptions(con, run)
print(f"{run.incident_id}: run {run.run_id} ({run.status})")
print(
    f"{customers['customer_id'].nunique():,} customers, {len(customers):,} customer-currency "
    f"lines, {len(payments):,} candidate payments, {len(exceptions):,} exceptions"
)

# %% [markdown]
# ## Credit status
#
# `published`: paid by the ledger; `pending`: waits for finance's approval; `by_hand`: the
# account is closed, the credit is owed and finance pays it by hand; `excluded`: no credit, and
# why.

# %%
status = customers.groupby("status").size().rename("lines").to_frame()
status["customers"] = customers.groupby("status")["customer_id"].nunique()
display(status)

# %%
excluded = customers[customers["status"] == "excluded"]
excluded.groupby("detail").size().sort_values(ascending=False).rename("lines").to_frame()

# %% [markdown]
# ## By segment, country and currency

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), layout="constrained")
for ax, column in zip(axes, ["segment", "country", "currency"], strict=True):
    table = pd.crosstab(customers[column].fillna("(unknown)"), customers["status"])
    table.loc[table.sum(axis=1).sort_values().index].plot.barh(
        stacked=True, ax=ax, width=0.8, legend=False
    )
    ax.set_title(f"customer lines by {column}")
    ax.set_ylabel("")
# one legend for the three, below them: it never covers a bar
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
plt.show()

# %% [markdown]
# ## Credits: totals and distribution per currency
#
# Totals as money (`USD 14,750.00`, `JPY 1,500`: the form every page uses); the distribution
# in the currency's minor units (cents, yen).

# %%
credited = customers[customers["credit_minor"].notna()]
totals = analysis.credit_totals(customers)  # paid: every customer the ledger paid
display(
    pd.DataFrame(
        {
            "lines": totals["lines"],
            **{
                name: [money.display(v, c) for c, v in totals[f"{name}_minor"].items()]
                for name in ("credit", "paid", "failed_amount")
            },
        },
        index=totals.index,
    )
)

# %% [markdown]
# The distribution: under a flat policy every line of a currency gets the same credit, so one
# bar per currency with its count; otherwise a histogram per currency.

# %%
amounts = credited.groupby(["currency", "credit_minor"]).size().rename("lines").reset_index()
amounts["credit"] = [
    money.display(int(minor), currency)
    for currency, minor in zip(amounts["currency"], amounts["credit_minor"], strict=True)
]
if amounts["currency"].is_unique:  # one amount per currency
    display(amounts[["currency", "credit", "lines"]].set_index("currency"))
    fig, ax = plt.subplots(figsize=(1.4 * len(amounts) + 2, 3))
    ax.bar_label(ax.bar(amounts["credit"], amounts["lines"], color="#2a9d8f"), fmt="{:,.0f}")
    ax.set_ylabel("customer lines")
    ax.set_title("credit per customer line")
    ax.margins(y=0.15)
else:
    currencies = sorted(credited["currency"].unique())
    fig, axes = plt.subplots(
        1, len(currencies), figsize=(3.5 * len(currencies), 3), squeeze=False, layout="constrained"
    )
    for ax, currency in zip(axes[0], currencies, strict=True):
        credited.loc[credited["currency"] == currency, "credit_minor"].plot.hist(bins=20, ax=ax)
        ax.set_title(f"credit per customer, {currency}")
        ax.set_xlabel("minor units")
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
plt.show()

# %% [markdown]
# ## Candidate payments by class, and the failed amounts

# %%
pd.crosstab(payments["class"], payments["credited"], margins=True)

# %%
amounts = payments.groupby(["currency", "class"])["amount_minor"]  # minor units, whole
amounts.agg(["count", "mean", "median", "max"]).round().astype("Int64")  # none: <NA>

# %% [markdown]
# ## Exceptions for finance

# %%
exceptions.groupby("exception").agg(
    rows=("exception", "size"), customers=("customer_id", "nunique")
)

# %%
exceptions.head(20)

# %%
con.close()
