"""Quality: the data-quality gate. Great Expectations suites (`expectations/*.json`) loaded
(`suites`), run by GX (`gx_run`, long frames a slice at a time: `slices`) into outcomes
(`validation`), rendered as the validation page (`validation_page`), and the gate's verdict.

May import the shared basics, `ingest` and `reconcile`.
"""
