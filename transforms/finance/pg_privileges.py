"""What a login may do on a PostgreSQL store (`Privileges`, read by `pg_session.privileges` from
`store_privileges.sql`), what a command needs (`Access`), and the words of a refusal: the role to
grant, CREATEROLE to make the store's roles, the owner's grant still to come on a store made
before the roles, or TEMPORARY on the database, where a writer stages its rows
(docs/warehouse.md, Least privilege)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Access(StrEnum):
    """What a command does to the store, which decides the privileges its login needs."""

    READ = "read"  # runs, lookup, diff, audit, the notebooks
    RUN = "run"  # credits run: adds a run (credits_runner)
    DECIDE = "decide"  # approve, decline (credits_approver)


_ROLE = {Access.RUN: "credits_runner", Access.DECIDE: "credits_approver"}
_NEEDS = {Access.RUN: "a run needs", Access.DECIDE: "an approval or a decline needs"}


@dataclass(frozen=True)
class Privileges:
    """What the login may do on the store (`store_privileges.sql`)."""

    made: bool  # the store's tables are there
    may_make_roles: bool  # a superuser, or CREATEROLE
    may_read: bool  # SELECT on every table: each command reads them all
    may_run: bool
    may_decide: bool
    runner: bool  # a member of credits_runner
    approver: bool
    writer: bool
    granted: bool  # the roles granted on this store (not a store made before them)
    may_stage: bool  # may make temporary tables: every writer stages the rows it sends in one
    read_only: bool  # its transactions are read-only: a hot standby, default_transaction_read_only
    may_make_tables: bool  # CREATE on the store's schema: a new store's first writer makes them

    def refusal(self, access: Access | None) -> str | None:
        """Why this login may not do `access` (None: any writing command) and what it needs;
        None when it may."""
        refused = self._role_refusal(access)
        if refused is not None or access is Access.READ:
            return refused
        if self.read_only:
            return READ_ONLY
        if self.made and not self.may_read:
            return _UNREADABLE
        return None if self.may_stage else NO_STAGING

    def _role_refusal(self, access: Access | None) -> str | None:
        if not self.made:
            if access not in (Access.RUN, None):
                return None
            if not self.may_make_roles:
                return MAKING_ROLES
            return None if self.may_make_tables else MAKING_TABLES
        may = {Access.READ: self.may_read, Access.RUN: self.may_run, Access.DECIDE: self.may_decide}
        allowed = self.may_run or self.may_decide if access is None else may[access]
        if allowed:
            return None
        roles = {Access.RUN: self.runner, Access.DECIDE: self.approver}
        held = roles.get(access, self.runner or self.approver)  # type: ignore[call-overload]
        if held and not self.granted:
            return _NOT_GRANTED
        return needed(access)


_UNREADABLE = (
    "this login may not read every table of the store, and every command reads them all: "
    "SELECT on each, which each of the roles credits_runner, credits_approver and credits_writer "
    "gives (a grant revoked from its role, or from the login?) (docs/warehouse.md, Least "
    "privilege)"
)

REFUSED_ANYWAY = (
    "this login holds what the store's roles give, yet the server refused it the privilege it "
    "names: a grant taken from its role or the login on this store (docs/warehouse.md, Least "
    "privilege)"
)

_NOT_GRANTED = (
    "this login has its role, but the store was made before the roles credits_runner and "
    "credits_approver and its owner has not granted them on it yet: the owner's next `credits "
    "run`, `approve` or `decline` does (docs/warehouse.md, Least privilege)"
)


def needed(access: Access | None) -> str:
    """The role (or the privilege) a command doing `access` needs."""
    if access is Access.READ:
        return (
            "this login may not read the store: a reader (runs, lookup, diff, audit) needs only "
            "read access, SELECT on its tables, which each of the roles credits_runner, "
            "credits_approver and credits_writer gives (docs/warehouse.md, Least privilege)"
        )
    if access is None:
        return (
            "this login may not do that: a run needs the role credits_runner, an approval or a "
            "decline credits_approver (docs/warehouse.md, Least privilege)"
        )
    return (
        f"this login may not do that: {_NEEDS[access]} the role {_ROLE[access]} (or "
        f"credits_writer): `grant {_ROLE[access]} to LOGIN` (docs/warehouse.md, Least privilege)"
    )


NO_STAGING = (
    "this login may not make temporary tables in the store's database, where every run, approval "
    "and decline stages the rows it sends (a bulk COPY): `grant temporary on database DATABASE "
    "to LOGIN` (a `revoke temporary ... from public` takes it from every role; docs/warehouse.md, "
    "Least privilege)"
)

MAKING_TABLES = (
    "making the store makes its tables in the schema public, which needs CREATE on the schema "
    "public (PostgreSQL 15 gives it to the database's owner only): run its first `credits run` "
    "as the database's owner, or `grant create on schema public to LOGIN` (docs/warehouse.md, "
    "Least privilege)"
)

READ_ONLY = (
    "the database is read-only (`default_transaction_read_only` is on for the database, this "
    "login or the connection: PGOPTIONS, the URL's options; or the server is a hot standby): "
    "readers read it, but no run, approval or decline "
    "can commit there. Point CREDITS_WAREHOUSE (or --warehouse) at the primary server, or have "
    "its administrator turn the setting off (`alter database DATABASE reset "
    "default_transaction_read_only`), then run the command again"
)

MAKING_ROLES = (
    "making the store makes its roles credits_runner and credits_approver, which needs "
    "CREATEROLE (PostgreSQL asks for it even where the roles exist): give the store's owner "
    "CREATEROLE (`alter role LOGIN createrole`), or run its first `credits run` as a login "
    "that has it (docs/warehouse.md, Least privilege)"
)
