-- Keys the server holds that a mirror table lost: nothing ever deletes, so none may be.
select count(*) from {base} as b anti join {table} as t using ({key})
