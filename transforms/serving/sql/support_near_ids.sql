-- Known ids of kind $kind ('customer' or 'txn') that $given most likely meant (key: id): the ones
-- that differ from it only in case, or only in the zeros before the number, the blank or mark
-- between prefix and number, or a prefix left off (`12`, `0000012`, `cus_12`, `cus 12` for
-- `cus_0000012`; `0042` for `42`). Ids are exact, so these are suggestions only; none when
-- $given is itself a known id of that kind (a customer only a rejected run knows is not yet
-- answered, not mistyped).
with

known as (
    select 'customer' as kind, customer_id as id from run_customers
    union all
    select 'customer' as kind, customer_id as id from evidence
    union all
    select 'customer' as kind, customer_id as id from ledger
    union all
    select 'txn' as kind, txn_id as id from evidence
    union all
    select 'txn' as kind, txn_id as id from run_exceptions
),

shaped as (
    select distinct
        id,
        regexp_extract(lower(id), '^([a-z]*)[^a-z0-9]*0*([0-9]+)$', ['prefix', 'number']) as shape
    from known
    where kind = $kind and id is not null and id <> $given
),

given as (
    select
        regexp_extract(lower($given), '^([a-z]*)[^a-z0-9]*0*([0-9]+)$', ['prefix', 'number'])
            as shape,
        exists (select 1 from known where kind = $kind and id = $given) as is_known
),

final as (
    select shaped.id
    from shaped, given
    where
        not given.is_known
        and (
            lower(shaped.id) = lower($given)
            or (
                given.shape.number <> ''
                and shaped.shape.number = given.shape.number
                and given.shape.prefix in ('', shaped.shape.prefix)
            )
        )
)

select * from final
order by id
limit 5
