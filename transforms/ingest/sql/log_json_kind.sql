-- `log_json_kind(value)`: the JSON type of a JSON value, read from its first character (the map
-- has just parsed the line, so parsing each field again to type it would be waste); INTEGER or
-- DOUBLE for a number, NULL (SQL) when the field is absent.
create or replace temp macro log_json_kind(value) as
    case
        when value is null then null
        when starts_with(value, '"') then 'VARCHAR'
        when value = 'null' then 'NULL'
        when starts_with(value, '{') then 'OBJECT'
        when starts_with(value, '[') then 'ARRAY'
        when value in ('true', 'false') then 'BOOLEAN'
        when contains(value, '.') or contains(value, 'e') or contains(value, 'E') then 'DOUBLE'
        else 'INTEGER'
    end
