"""The pipeline against the reference model, on generated incidents (issue 11).

The transforms run as in a run, without Prefect, and must give the same `credits.csv` byte for
byte, the same exceptions, the same class, credit and reason per transaction and the same log
funnel as `tests/reference/model.py`. Every failure Hypothesis has shrunk is kept below as an
`@example`.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import given

from tests.reference import model
from tests.reference.incidents import incidents, write
from transforms import credits, db, incident, logs, manifest, outputs, reconcile, tables
from transforms.errors import ConfigError

FUNNEL = ("lines_read", "relevant", "irrelevant", "duplicates", "quarantined")


def pipeline(case: model.Incident, folder: Path) -> model.Outcome:
    """The pipeline's transforms on the incident, in this process, as the model's outcome."""
    path = write(case, folder / "incident")
    try:
        loaded = incident.load(path)
    except ConfigError:
        return model.Outcome(config_error=True)
    with db.connect() as con:
        read = logs.stage(con, loaded, folder / "work")
        tables.stage(con, loaded)
        reconcile.classify(con, loaded)
        try:
            credits.build(con, loaded)
        except ConfigError:
            return model.Outcome(config_error=True)
        written = {}
        for name, columns, order in (
            ("credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER),
            ("exceptions", outputs.EXCEPTION_COLUMNS, outputs.EXCEPTION_ORDER),
        ):
            written[name] = folder / f"{name}.csv"
            outputs.write_csv(con, name, columns, order, written[name])
        funnel = manifest.account(con, read).funnel
        evidence = con.table("evidence").select(
            "txn_id, class, credited, reason, customer_id, amount_minor, currency, "
            "error_codes, failure_lines, edge"
        )
        quarantined = con.sql(
            "select f.name, q.line from stg_log_quarantine as q join log_files as f using (file_id)"
        )
        with open(written["exceptions"], encoding="utf-8", newline="") as handle:
            exceptions = list(csv.reader(handle))[1:]
        return model.Outcome(
            credits_csv=written["credits"].read_text(encoding="utf-8"),
            exceptions=tuple(sorted(tuple(row) for row in exceptions)),
            evidence={row[0]: model.Evidence(*row[1:]) for row in evidence.fetchall()},
            funnel={k: funnel[k] for k in FUNNEL},
            quarantined=frozenset(quarantined.fetchall()),
        )


def as_written(outcome: model.Outcome) -> model.Outcome:
    """The model's exceptions as the CSV file holds them: text, a null as an empty field."""
    rows = (tuple("" if v is None else str(v) for v in row) for row in outcome.exceptions)
    return model.Outcome(
        credits_csv=outcome.credits_csv,
        exceptions=tuple(sorted(rows)),  # the file's order is checked by its own tests
        evidence=outcome.evidence,
        funnel=outcome.funnel,
        quarantined=outcome.quarantined,
        config_error=outcome.config_error,
    )


@given(incidents())
def test_the_pipeline_agrees_with_the_reference_model(case):
    expected = as_written(model.run(case))
    with tempfile.TemporaryDirectory() as folder:
        found = pipeline(case, Path(folder))
    assert found.config_error == expected.config_error
    assert found.funnel == expected.funnel
    assert found.quarantined == expected.quarantined
    assert found.evidence == expected.evidence
    assert found.exceptions == expected.exceptions
    assert found.credits_csv == expected.credits_csv
