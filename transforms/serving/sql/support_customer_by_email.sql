-- The customers whose e-mail address is $email, compared without case or surrounding blanks
-- (key: customer_id), as any run that passed the quality gate saw the customer table.
select distinct run_customers.customer_id
from run_customers
inner join runs on runs.run_id = run_customers.run_id
where runs.status <> 'rejected'
    and lower(trim(run_customers.email)) = lower(trim($email))
order by run_customers.customer_id
