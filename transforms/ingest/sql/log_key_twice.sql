-- `log_key_twice(doc, parent, k)`: whether the object at JSON path `parent` of the JSON text
-- `doc` holds the key `k` more than once (false when there is no object there). A decoder keeps
-- one of the two values, so a field read through that key is ambiguous: the record is
-- quarantined, never read either way. `doc` must be valid JSON.
create or replace temp macro log_key_twice(doc, parent, k) as
    coalesce(len(list_filter(json_keys(doc, parent), lambda x: x = k)) > 1, false)
