-- `log_plain_number(t)`: a JSON number's text without its exponent, every digit kept and the
-- point moved (`1.7362800009999999e9` is `01736280000.9999999` and zeros), so that the digits
-- past a scale can be cut off, never rounded by a cast; a text without an exponent (or with
-- one of over two digits: no time) as it is.
create or replace temp macro log_plain_number(t) as
    case
        when not regexp_full_match(t, '-?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]{1,2}') then t
        else list_transform(
            [regexp_extract(
                t,
                '^(-?)([0-9]+)\.?([0-9]*)[eE]([+-]?[0-9]+)$',
                ['sign', 'whole', 'fraction', 'exponent']
            )],
            -- the digits between 99 zeros each side, the point after the whole part's moved by
            -- the exponent (the zeros before it dropped, past the cast's 38 digits)
            lambda m: list_transform(
                [repeat('0', 99) || m.whole || m.fraction || repeat('0', 99)],
                lambda digits: m.sign || '0' || ltrim(
                    left(digits, 99 + length(m.whole) + cast(m.exponent as integer)), '0'
                ) || '.' || substr(digits, 100 + length(m.whole) + cast(m.exponent as integer))
            )[1]
        )[1]
    end
