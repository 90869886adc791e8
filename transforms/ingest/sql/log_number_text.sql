-- `log_number_text(doc, k, parsed)`: the JSON number that the key `k` holds in the JSON text
-- `doc` as written, every digit kept, where DuckDB's JSON has read it as the double `parsed`
-- (its text) and so rounded one of over 16 digits (1736280000.999999999 is 1736280001.0).
-- It is the number of every member of `doc` whose key is `k` and whose number reads as that
-- very double; NULL unless they are one text. That is safe: the number at the field's path is
-- one of them (`k` its last key), so a single text is its own; two (`k` in another object
-- too, holding a number the double rounds alike) leave the double, read as before.
-- The members are found by `k` as JSON spells it, followed by a colon: such a quote after `k`
-- ends a string, so it is a key's, the key `k` (the text holds no escaped quote before `k`,
-- which would make it another key's end, `"x\"ts"`). A text that may spell `k` with an escape
-- (`\u`, or a backslash when `k` holds one or a slash) is read member by member instead, each
-- key decoded, a string skipped as one token (a tenth of the speed). `doc` must be valid JSON.
create or replace temp macro log_number_text(doc, k, parsed) as
    nullif(list_reduce(
        list_filter(
            case
                when contains(doc, '\u') or contains(doc, '\' || to_json(k)::varchar)
                    or (regexp_matches(k, '[\\/]') and contains(doc, '\'))
                    then list_transform(
                        list_filter(
                            regexp_extract_all(
                                doc,
                                '"(?:[^"\\]|\\.)*"[ \t\n\r]*:[ \t\n\r]*-?[0-9][0-9.eE+-]*'
                                    || '|"(?:[^"\\]|\\.)*"'
                            ),
                            lambda member: regexp_matches(member, '[0-9]$') and json_extract_string(
                                regexp_extract(member, '^"(?:[^"\\]|\\.)*"'), '$'
                            ) = k
                        ),
                        lambda member: regexp_extract(member, '-?[0-9][0-9.eE+-]*$')
                    )
                else regexp_extract_all(
                    doc,
                    regexp_escape(to_json(k)::varchar) || '[ \t\n\r]*:[ \t\n\r]*(-?[0-9][0-9.eE+-]*)',
                    1
                )
            end,
            lambda number: try_cast(number as double) = try_cast(parsed as double)
        ),
        lambda one, number: case when one in ('', number) then number end,
        ''
    ), '')
