-- The customers whose e-mail address is $email, compared without case or surrounding blanks
-- (key: customer_id), as any sealed run that passed the quality gate saw the customer table
-- (pending_approval, published or declined: never a run still `sealing`, nor a rejected one).
select distinct run_customers.customer_id
from run_customers
inner join runs on runs.run_id = run_customers.run_id
where runs.status in ('pending_approval', 'published', 'declined')
    and lower(trim(run_customers.email)) = lower(trim($email))
order by run_customers.customer_id
