-- `text_shown(t, ascii_space, hidden)`: a log's code or customer id as an exception's detail
-- shows it: quoted when empty, with ASCII white space at its ends (`ascii_space`) or holding a
-- hidden character (`hidden`: U+200B, U+FEFF, U+00A0), which written plainly would not show
-- (`''`, `' UPSTREAM_TIMEOUT'`, `'c1 '`: no code, an outage code, the table's customer, it
-- read), the first hidden character inside its blanks named (`'c1' (holds U+200B)`).
create or replace temp macro text_shown(t, ascii_space, hidden) as
    case
        when t = '' or t <> trim(t, ascii_space) or regexp_matches(trim(t, ascii_space), hidden)
            then '''' || t || '''' || coalesce(
                ' (holds U+' || printf('%04X', unicode(nullif(
                    regexp_extract(trim(t, ascii_space), hidden), ''
                ))) || ')',
                ''
            )
        else t
    end
