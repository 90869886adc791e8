-- A staging table once its rows are moved ({staged}: a name we made, never a value).
drop table {staged}
