"""The map's memory does not grow with a partition: DuckDB streams the lines through
`stg_logs.sql`, nothing in its plan holding them all."""

from __future__ import annotations

import re

import pytest

from tests.builders import failure, write_incident
from transforms import db
from transforms.ingest import incident, logs
from transforms.ingest.logs import framed, mapper, staging


@pytest.mark.parametrize(
    "log_format",
    [{}, {"payload": "log", "txn_id": "payment.id", "ts": "envelope.date"}],  # keys checked
)
def test_the_line_checks_stream_without_holding_every_line(tmp_path, log_format):
    # A subquery per line (as `log_local_instant` once was) makes DuckDB join the whole input
    # to itself: a materialized CTE and a delim join, and the partition held in memory.
    path = write_incident(
        tmp_path / "inc", lines=[failure("t1")], sources={"log_format": log_format}
    )
    reading = logs.Reading.of(incident.load(path))
    con = mapper.with_macros(db.connect(), reading.currencies)
    con.register("framed_lines", framed.FRAMED_SCHEMA.empty_table())
    plan = con.execute("explain " + db.statement("stg_logs"), staging.parameters(reading))
    operators = set(re.findall(r"╭─ ([A-Z][A-Za-z ]*[a-z])", plan.fetchall()[0][1]))
    assert "Python Arrow Scan" in operators
    assert operators <= {"Python Arrow Scan", "Projection", "Filter"}  # row by row, no join
