-- The credit file: one payable line per (customer_id, currency), key credit_id = the first 16
-- hex digits of sha256('<incident>|<customer_id>|<currency>'). Amounts in minor units, and as a
-- decimal string with the currency's ISO 4217 digits (minor_unit_factor = 10 ^ digits).
create or replace table credits as
with

payable as (
    select * from int_credit_lines
    where customer_block is null and credit_amount_minor > 0
),

final as (
    select
        left(sha256($incident_id || '|' || customer_id || '|' || currency), 16) as credit_id,
        $incident_id as incident_id,
        customer_id,
        currency,
        case
            when minor_unit_factor = 1 then cast(credit_amount_minor as varchar)
            else cast(credit_amount_minor // minor_unit_factor as varchar) || '.'
                || lpad(
                    cast(credit_amount_minor % minor_unit_factor as varchar),
                    cast(length(cast(minor_unit_factor as varchar)) - 1 as integer),
                    '0'
                )
        end as credit_amount,
        credit_amount_minor,
        credited_txn_count,
        failed_amount_minor,
        'outage_credit' as reason_code,
        printf('Credit for %d payment(s) failed during %s', credited_txn_count, $incident_id)
            || coalesce(': ' || nullif($incident_title, ''), '') as description,
        $policy_version as policy_version
    from payable
)

select * from final
