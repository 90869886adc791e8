"""Generate a realistic, deterministic sample incident for outage-credits.

The story: on 2025-01-07 the payment service degraded from 14:15 to 18:15 America/New_York
(19:15Z to 23:15Z, window [start, end)). A new service (``ledger-sync``) held database
connections, the pool ran dry and about half of all payments failed inside the window. Outside
the window failures are rare and mostly customer declines.

``generate`` writes, under ``out_dir``:

* ``logs/payment-api-<pod>.2025-01-07T<HH>.jsonl.gz``: JSON lines, gzip, one file per pod and UTC
  hour (4 pods x 24 hours). Grain: one log event per line. Three pods write UTC timestamps with
  ``Z`` and milliseconds; pod ``5c4b-lm7rt`` writes local time with ``-05:00`` and microseconds.
  Amounts are integer minor units (``amount_minor``, JPY has no minor digits).
* ``transactions.parquet``: grain one payment, key ``txn_id``; timestamps in UTC, microseconds.
* ``customers.parquet``: grain one customer, key ``customer_id``.
* ``INC-2025-01-07.toml``: the incident definition and credit policy.

The logs carry the dirt of real shipping: about 0.5% byte-identical duplicate lines (a few of them
repeated at the top of the same pod's next hourly file), a few malformed lines (truncated JSON,
plain-text stack-trace lines; at most 0.2% of any file), ``txn_id`` values padded with spaces in
some failure lines, failure lines without ``customer_id``, and unknown error codes.

Every case the pipeline must classify is planted on purpose (see ``plants.plan_plants``); the
counts of planted cases come back in the result of ``generate`` under ``planted_*`` keys.

The modules: ``world`` (constants, names, customers), ``plants`` (the planted cases),
``payments`` (a slice's payments and table rows), ``log_lines`` (their JSON lines) and
``files`` (``generate``: the files, with the shipping dirt).

Output is a pure function of ``(seed, scale)``: byte-identical files for the same arguments (gzip
headers carry no name and mtime 0). No wall clock is read. Volume grows linearly with ``scale``;
memory stays flat because the day is generated in slices of at most 15 minutes (shorter at large
scales) and streamed into the hourly files, and customers are written in chunks.

May import the shared basics at the top of `transforms` only.
"""

from transforms.sample.files import generate, require_replaceable, require_room
from transforms.sample.world import INCIDENT_TOML

__all__ = ["INCIDENT_TOML", "generate", "require_replaceable", "require_room"]
