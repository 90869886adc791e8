-- The policy's amounts per currency of an earlier classification in the same work database:
-- `credits.build` makes them again for the next window.
drop table if exists policy_amounts
