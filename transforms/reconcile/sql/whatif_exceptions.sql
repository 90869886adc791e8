-- One policy's exceptions by kind, as a run's manifest counts them (rows of exceptions.csv).
select exception, count(*) as exception_rows
from exceptions
group by exception
order by exception
