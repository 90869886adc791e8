"""CSV with LF line ends: a CR in a cell is quoted like an LF, in rows and in Arrow columns."""

from __future__ import annotations

import csv
import io

import pyarrow as pa

from transforms import csv_lf


def written(*rows, columns=None) -> str:
    text = io.StringIO(newline="")
    writer = csv_lf.Writer(text)
    for row in rows:
        writer.writerow(row)
    if columns is not None:
        writer.write_columns(columns)
    return text.getvalue()


def test_a_cr_is_quoted_as_an_lf_is_and_the_line_ends_stay_lf():
    assert written(["x\ry", "a\nb", "c,d", 1]) == '"x\ry","a\nb","c,d",1\n'
    assert written(["plain", None, 2]) == "plain,,2\n"


def test_arrow_columns_with_and_without_a_cr_read_back_as_written():
    ids = pa.chunked_array([["p\rq", "ok"], ["r"]])  # a batch's column, as `outbox` gives it
    text = written(["id", "n"], columns=[ids, pa.array([1, 2, 3])])
    assert text == 'id,n\n"p\rq",1\nok,2\nr,3\n'
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["id", "n"],
        ["p\rq", "1"],
        ["ok", "2"],
        ["r", "3"],
    ]
    assert written(columns=[pa.array(["a", "b"]), pa.array([1, 2])]) == "a,1\nb,2\n"


def test_a_cr_in_a_dictionary_or_view_column_is_quoted_too():
    for column in (pa.array(["a\rb"]).dictionary_encode(), pa.array(["a\rb"], pa.string_view())):
        assert written(columns=[column, pa.array([1])]) == '"a\rb",1\n'
