-- `log_iso_currency`: the incident's money (`Incident.currencies`: the ISO 4217 codes legal tender
-- somewhere on a day of its window) as an ENUM type, so that checking a log line's currency is
-- one hash lookup (`try_cast(currency as log_iso_currency)`), not a scan of the list.
create type log_iso_currency as enum (select unnest($currencies))
