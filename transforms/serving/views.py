"""What a person reads of support's answers: the columns of each table, money as money, times
in the incident's zone with its abbreviation, and a table that fits the terminal.

The command line and the support page show the same cells from the same rows. Machine files
(CSV, JSON) keep the rows as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size

from transforms import money, pages
from transforms.serving import answers, exports, filters, support

WIDTH = 120  # the default table fits a terminal of this many columns
GAP = "  "
NARROWEST = 8  # a clipped column keeps at least this many cells
CLIPPED = "…"
ITEMS = ", "  # between the whole items of an `items` cell (amounts per currency)


@dataclass(frozen=True)
class Column:
    """One column: its heading, its cell from a row and the incident's zone, and whether it is
    shown only when asked for (`wide`), may be clipped to fit (`flexible`), shows only the
    leading items that fit, each whole, and how many more (`items`: money is never cut), or is
    left out when the table does not fit otherwise (`drop`: 1 goes first, then 2, ...)."""

    heading: str
    cell: Callable[[dict[str, Any], str], Any]
    wide: bool = False
    flexible: bool = False
    items: bool = False
    drop: int = 0


@dataclass(frozen=True)
class Layout:
    """A table laid out for a width: its lines, and the headings left out to fit."""

    lines: list[str]
    left_out: list[str]


def amount(value: str | None, currency: str | None) -> str:
    """A row's decimal amount ("10.00", "USD") as money: `USD 10.00`; empty for none."""
    if value is None or currency is None:
        return ""
    return money.display(money.minor_units(value, currency), currency)


def credit_minor(row: dict[str, Any]) -> int | None:
    """The credit a customer gets, minor units: what the answering run proposes, else what was
    paid; None for none."""
    due = row["credit_amount"] if row["credit_amount"] is not None else row["paid_amount"]
    if due is None or row["currency"] is None:
        return None
    return money.minor_units(due, row["currency"])


def credit(row: dict[str, Any]) -> str:
    """The credit a customer gets (`credit_minor`) as money: `USD 10.00`; empty for none."""
    minor = credit_minor(row)
    return "" if minor is None else money.display(minor, row["currency"])


def status_words(row: dict[str, Any]) -> str:
    """A credit's status in words: `paid`, `waiting for approval`, `paid by hand`..."""
    return filters.SHOWN_AS.get(row["status"], row["status"])


CUSTOMERS = (
    Column("customer", lambda r, z: r["customer_id"]),
    Column("name", lambda r, z: r["name"], flexible=True),
    Column("email", lambda r, z: r["email"], wide=True),
    Column("country", lambda r, z: r["country"], wide=True),
    Column("segment", lambda r, z: r["segment"], wide=True),
    Column("failed", lambda r, z: r["failed_txn_count"]),
    Column("first failure", lambda r, z: answers.time_shown(r["first_failure_local"], z), True),
    Column("last failure", lambda r, z: answers.time_shown(r["last_failure_local"], z), True),
    Column("credit", lambda r, z: credit(r)),
    Column("status", lambda r, z: status_words(r)),
    Column("why", lambda r, z: r["detail"], flexible=True),
)
CREDITS = (
    Column("credit", lambda r, z: credit(r)),
    Column("status", lambda r, z: status_words(r)),
    Column("why", lambda r, z: r["detail"], flexible=True),
    Column("failed payments", lambda r, z: r["failed_txn_count"]),
)
TRANSACTIONS = (
    Column("payment", lambda r, z: r["txn_id"]),
    Column("first failure", lambda r, z: answers.time_shown(r["first_failure_local"], z), True),
    Column("last failure", lambda r, z: answers.time_shown(r["last_failure_local"], z)),
    Column("error codes", lambda r, z: r["error_codes"], wide=True),
    Column("class", lambda r, z: r["class"], wide=True),
    Column("amount", lambda r, z: amount(r["amount"], r["currency"])),
    Column("credited", lambda r, z: "yes" if r["credited"] else f"no: {r['why']}", flexible=True),
)
EXCEPTIONS = (
    Column("for finance", lambda r, z: r["what"], flexible=True),
    Column("payment", lambda r, z: r["txn_id"]),
    Column("credit owed", lambda r, z: amount(r["credit_owed"], r["currency"])),
    Column("failed amount", lambda r, z: amount(r["failed_amount"], r["currency"]), wide=True),
    Column("detail", lambda r, z: r["detail"], wide=True),
)


# The customers CSV (`credits customers --format csv`, the support page's download): the rows'
# columns as they are (decimals beside `currency`, status codes, ISO times), then what the table
# shows in their place: the credit as money and in minor units (what finance sums), the status
# in words. Every cell of the table is in it; the columns before these keep their places.
CUSTOMERS_CSV = (*support.COLUMNS, "credit", "credit_minor", "status_words")
CUSTOMERS_CSV_KIND = exports.Kind("`credits customers` CSV", CUSTOMERS_CSV)
CUSTOMERS_JSON = ("incident_id", "run_id", "run_status", "timezone", "note", "customers")
"""The keys of `credits customers --format json`'s document, in order."""
CUSTOMERS_JSON_KIND = exports.Kind("`credits customers` JSON", CUSTOMERS_JSON, json=True)


def customers_csv(rows: Sequence[dict[str, Any]]) -> str:
    """An incident's customer lines as the spreadsheet-safe CSV of `CUSTOMERS_CSV`."""
    shown = (
        {**r, "credit": credit(r), "credit_minor": credit_minor(r), "status_words": status_words(r)}
        for r in rows
    )
    return exports.csv_text(CUSTOMERS_CSV, shown)


def text(value: Any) -> str:
    """A cell as plain text: None is empty; control characters (a terminal escape in a name)
    are shown as `?`."""
    return pages.visible("" if value is None else str(value))


def table(
    columns: Sequence[Column], rows: Sequence[dict[str, Any]], timezone: str, *, wide: bool
) -> tuple[list[str], list[list[str]]]:
    """The headings and cells of the columns shown (all with `wide`), as plain text."""
    shown = [c for c in columns if wide or not c.wide]
    return [c.heading for c in shown], [[text(c.cell(r, timezone)) for c in shown] for r in rows]


def lines(
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    timezone: str,
    *,
    wide: bool = False,
    indent: str = "",
    width: int = WIDTH,
) -> list[str]:
    """The table as aligned lines, a rule under the headings (see `layout`)."""
    return layout(columns, rows, timezone, wide=wide, indent=indent, width=width).lines


def layout(
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    timezone: str,
    *,
    wide: bool = False,
    indent: str = "",
    width: int = WIDTH,
) -> Layout:
    """The table as aligned lines, a rule under the headings. Unless `wide`, it is made to fit
    `width` cells: first the `drop` columns are left out, lowest first, while the others could
    not fit even at their narrowest; then the flexible columns are clipped (with `…`) and the
    `items` columns keep their leading whole items. A column neither flexible nor `items` is
    never cut: if it alone is wider than the terminal, the line is too."""
    shown = [c for c in columns if wide or not c.wide]
    headings, cells = table(shown, rows, timezone, wide=True)
    widths = [max(cell_len(line[i]) for line in [headings, *cells]) for i in range(len(shown))]
    left_out: list[str] = []

    def room() -> int:
        return width - cell_len(indent) - cell_len(GAP) * (len(widths) - 1)

    def narrowest(i: int) -> int:
        if shown[i].items:
            return max(cell_len(headings[i]), *(cell_len(_items(r[i], 0)) for r in cells))
        return min(widths[i], NARROWEST) if shown[i].flexible else widths[i]

    while not wide and sum(narrowest(i) for i in range(len(widths))) > room():
        droppable = [i for i, c in enumerate(shown) if c.drop]
        if not droppable:
            break
        i = min(droppable, key=lambda i: shown[i].drop)
        left_out.append(shown[i].heading)
        for line in [headings, *cells]:
            del line[i]
        del shown[i], widths[i]
    while not wide and sum(widths) > room():
        i = max(
            (i for i in range(len(widths)) if widths[i] > narrowest(i)),
            key=lambda i: widths[i],
            default=None,
        )
        if i is None:
            break
        widths[i] -= 1

    def fitted(line: list[str]) -> str:
        return indent + GAP.join(
            _fit_items(c, w) if column.items else _fit(c, w)
            for c, w, column in zip(line, widths, shown, strict=True)
        )

    out = [fitted(headings), indent + GAP.join("-" * w for w in widths), *map(fitted, cells)]
    return Layout([line.rstrip() for line in out], left_out)


def _items(cell: str, kept: int) -> str:
    """`cell`'s first `kept` whole items (at least one), and how many more there are."""
    items = cell.split(ITEMS) if cell else []
    kept = max(kept, 1)
    if len(items) <= kept:
        return cell
    return f"{ITEMS.join(items[:kept])} +{len(items) - kept} more"


def _fit_items(cell: str, width: int) -> str:
    if cell_len(cell) <= width:
        return set_cell_size(cell, width)
    count = len(cell.split(ITEMS))
    kept = max((k for k in range(1, count) if cell_len(_items(cell, k)) <= width), default=1)
    return set_cell_size(_items(cell, kept), width)  # `layout` never makes it narrower than 1


def _fit(cell: str, width: int) -> str:
    if cell_len(cell) > width:
        return set_cell_size(cell, width - 1) + CLIPPED
    return set_cell_size(cell, width)
