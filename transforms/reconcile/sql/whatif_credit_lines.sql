-- One policy's credit file as `credits what-if` reads it (key: customer_id, currency), minor
-- units: each payable line's credit, whether the floor lifted it (the basis gave less than
-- min_minor) and whether the cap cut it (more than cap_minor after the floor).
with

payable as (
    select customer_id, currency, credit_amount_minor from credits
),

lines as (
    select
        customer_id,
        currency,
        coalesce(base_amount_minor < min_minor, false) as floor_lifted,
        coalesce(greatest(base_amount_minor, coalesce(min_minor, base_amount_minor)) > cap_minor, false)
            as cap_cut
    from int_credit_lines
    where customer_block is null
),

final as (
    select payable.*, lines.floor_lifted, lines.cap_cut
    from payable
    inner join lines
        on lines.customer_id = payable.customer_id and lines.currency = payable.currency
)

select * from final
order by customer_id, currency
