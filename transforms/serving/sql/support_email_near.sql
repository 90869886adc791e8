-- Known e-mail addresses $email most likely meant (key: email): the same mailbox (the part
-- before the @) at a domain one typo away, or, for a mailbox name of 5 characters or more, at
-- any other domain or with one typo in it at the same domain (a short mailbox at another domain,
-- `john@gmail.com` for `john@yahoo.com`, is anyone's), or the same mailbox but for a `+` tag at
-- the same domain (`john+shop@x.com`, `john@x.com`, `john+news@x.com`: a tag is its owner's);
-- compared without case or surrounding blanks, as `support_customer_by_email` reads them.
-- Suggestions only: an address is never taken for one.
with

given as (
    select
        split_part(lower(trim($email)), '@', 1) as mailbox,
        split_part(lower(trim($email)), '@', 2) as domain,
        split_part(split_part(lower(trim($email)), '@', 1), '+', 1) as base
),

known as (
    select distinct lower(trim(run_customers.email)) as email
    from run_customers
    inner join runs on runs.run_id = run_customers.run_id
    where runs.status in ('pending_approval', 'published', 'declined')
        and run_customers.email like '%@%'
),

final as (
    select known.email
    from known, given
    where
        known.email <> lower(trim($email))
        and (
            (
                split_part(known.email, '@', 1) = given.mailbox
                and (
                    length(given.mailbox) >= 5
                    or damerau_levenshtein(split_part(known.email, '@', 2), given.domain) <= 1
                )
            )
            or (
                split_part(known.email, '@', 2) = given.domain
                and length(given.mailbox) >= 5
                and levenshtein(split_part(known.email, '@', 1), given.mailbox) = 1
            )
            or (
                split_part(known.email, '@', 2) = given.domain
                and given.base <> ''
                and split_part(split_part(known.email, '@', 1), '+', 1) = given.base
            )
        )
)

select * from final
order by email
limit 3
