-- expect_column_values_to_not_be_null: the rows that break it. Reads `gate_expectation_rows`
-- (key_text, value): the rows the expectation's row condition keeps. Breaking: a null value.
select key_text from gate_expectation_rows where value is null
