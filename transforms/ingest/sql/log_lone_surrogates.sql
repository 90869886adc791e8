-- `log_lone_surrogates(doc)`: the text `doc` with each lone surrogate escape (`\ud800` not
-- followed by a low one, `\udc00` not after a high one: JavaScript's JSON.stringify writes one
-- for an emoji cut in two) written `\ufffd`, as a careful JSON decoder reads it; DuckDB's JSON
-- refuses the whole text for one. A pair is the character it spells, and an escaped backslash
-- (`\\ud800`) starts no escape: the text is read token by token, escapes whole. Only a text
-- that may hold one is tokenised; any other is returned as it is.
create or replace temp macro log_lone_surrogates(doc) as
    case
        when regexp_matches(doc, '\\u[dD][89a-fA-F]') then array_to_string(
            list_transform(
                regexp_extract_all(
                    doc,
                    '\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}'
                        || '|\\u[0-9a-fA-F]{4}|\\[^u]|[^\\]+|\\'
                ),
                lambda t: case
                    when regexp_full_match(t, '\\u[dD][89a-fA-F][0-9a-fA-F]{2}') then '\ufffd'
                    else t
                end
            ),
            ''
        )
        else doc
    end
