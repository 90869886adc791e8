-- `zeros_dropped(t)`: a customer id with each number's leading zeros dropped (`cus_0000012` is
-- `cus_12`, `c001` is `c1`): how an unknown customer's id is compared with the table's ids
-- (exceptions.sql), a zero alone kept (`c0`).
create or replace temp macro zeros_dropped(t) as
    regexp_replace(t, '(^|[^0-9])0+([0-9])', '\1\2', 'g')
