-- `log_iso_currency`: the ISO 4217 codes as an ENUM type, so that checking a log line's currency
-- is one hash lookup (`try_cast(currency as log_iso_currency)`), not a scan of the list.
create type log_iso_currency as enum (select unnest($currencies))
