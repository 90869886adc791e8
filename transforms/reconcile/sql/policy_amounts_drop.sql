-- The policy's amounts of an earlier pricing in the same work database (another window's, in
-- `credits window`): `credits.build` makes them anew for its incident.
drop table if exists policy_amounts
