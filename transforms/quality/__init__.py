"""Quality: the data-quality gate. Great Expectations suites (`expectations/*.json`) loaded
(`suites`), run by GX over rows (`gx_run`, long frames a slice at a time: `slices`) into
outcomes (`validation`), or over a DuckDB profile of the rows (`profiles`, patterns in RE2 form:
`regex`), rendered as the validation page (`validation_page`), and the gate's verdict (its id
checks: `id_checks`; ids that look alike in two scripts: `lookalikes`).

May import the shared basics, `ingest` and `reconcile`.
"""
