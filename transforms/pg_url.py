"""A `postgresql://` URL read the way libpq reads it, so that what a message shows, what the
connection uses and what Prefect records agree, and a password never shows.

libpq takes the user name and password up to the first `@` or `/` after `//`, and lets the
query's keywords (`?password=`, `?host=`, `?port=`, `?dbname=`) override the URL's parts.
Python's `urlsplit` differs where a password holds an unencoded `@`, `/`, `?` or `#`: there
the two would name different servers, and a message would print part of the password. Such a
URL is refused (exit 2) without being shown: those characters must be percent-encoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from transforms.errors import ConfigError

SCHEMES = ("postgresql://", "postgres://")
MASK = "***"
SECRETS = ("password", "sslpassword")
PASSPHRASE_VARIABLE = "CREDITS_PGSSLPASSWORD"  # a URL's sslpassword, kept out of Prefect
_ENCODE = (
    "not a PostgreSQL URL libpq reads as written: an '@', '/', '?' or '#' in the user name or "
    "password must be percent-encoded (%40, %2F, %3F, %23). The URL is not shown: it may hold "
    "a password"
)


# libpq's key/value connection string (`host=db dbname=credits password=...`), and a URL
# short of a slash (`postgresql:/db`): each was taken for a DuckDB file's path, printed in every
# message, password and all, and made a new warehouse file of that name by `credits run`.
_KEYWORDS = re.compile(
    r"^\s*(host|hostaddr|port|dbname|user|password|passfile|service|sslmode|sslpassword"
    r"|connect_timeout|application_name|options|target_session_attrs)\s*=",
    re.IGNORECASE,
)
_SHORT_URL = re.compile(r"^postgres(ql)?:(?!//)", re.IGNORECASE)


def require_no_misread_url(value: str, option: str = "warehouse") -> None:
    """Refuses (exit 2, the value not shown: it may hold a password) libpq's key/value form and
    a URL short of a slash, which would be read as a DuckDB file's path."""
    if _KEYWORDS.match(value) or _SHORT_URL.match(value):
        form = "libpq's key/value form" if _KEYWORDS.match(value) else "a URL short of a slash"
        raise ConfigError(
            f"{option}: {form}, neither a DuckDB file nor a PostgreSQL URL: write it as "
            "postgresql://user@host:port/database (a password percent-encoded, or in "
            "PGPASSWORD). Not shown: it may hold a password"
        )


@dataclass(frozen=True)
class PgUrl:
    """A URL's parts as written (percent-encoded): `user:password@hostspec/path?query`."""

    scheme: str
    user: str | None
    password: str | None
    hostspec: str
    path: str
    query: tuple[tuple[str, str], ...]  # (key decoded, item as written)

    def _query(self, secret: str | None) -> str:
        """The query as written, each secret's value `secret` (None: the item left out)."""
        return "&".join(  # any case: libpq refuses `PASSWORD=`, but its message would show it
            item if key.lower() not in SECRETS else f"{key}={secret}"
            for key, item in self.query
            if key.lower() not in SECRETS or secret is not None
        )

    def _join(self, password: str | None, query: str) -> str:
        userinfo = ""
        if self.user is not None:
            userinfo = self.user + ("" if password is None else f":{password}") + "@"
        text = f"{self.scheme}://{userinfo}{self.hostspec}{self.path}"
        return f"{text}?{query}" if query else text

    def shown(self) -> str:
        """The URL with every password (before the `@`, and `?password=`) masked."""
        masked = None if self.password is None else MASK
        return self._join(masked, self._query(MASK))

    def keyword(self, key: str) -> str | None:
        """The query's last value of `key`, decoded (libpq takes the last)."""
        values = [item.partition("=")[2] for k, item in self.query if k == key]
        return unquote(values[-1]) if values else None

    def without_password(self) -> tuple[str, str | None]:
        """The URL without its password, and the password decoded (for PGPASSWORD): the
        query's, when it has one, wins, as in libpq."""
        password = self.keyword("password")
        if password is None and self.password is not None:
            password = unquote(self.password)
        return self._join(None, self._query(None)), password

    def with_passphrase(self, passphrase: str | None) -> str:
        """The URL as written, with `sslpassword` (the client key's passphrase, which libpq
        reads from the URL only) added when it has none."""
        items = [item for _, item in self.query]
        if passphrase is not None and self.keyword("sslpassword") is None:
            items.append(f"sslpassword={quote(passphrase, safe='')}")
        return self.with_query("&".join(items))

    def server(self) -> str:
        """`host:port` the connection goes to (each, for a list of hosts), or the local socket
        when no host or a socket folder is named; a port that is not a number, or an IPv6
        bracket left open, is the URL's mistake."""
        host, port = self.keyword("host"), self.keyword("port")
        named = []
        try:
            for spec in self.hostspec.split(","):
                parts = urlsplit(f"//{spec}")
                named.append((host or unquote(parts.hostname or ""), port or parts.port or 5432))
        except ValueError as error:
            raise ConfigError(f"{self.shown()}: not a PostgreSQL URL ({error})") from None
        return ",".join(
            f"the local socket (port {p})"
            if not h or h.startswith("/")
            else (f"[{h}]:{p}" if ":" in h else f"{h}:{p}")
            for h, p in dict.fromkeys(named)
        )

    def with_query(self, query: str) -> str:
        """The URL as written, with `query` in place of its own (for the connection)."""
        return self._join(self.password, query)


def parse(url: str) -> PgUrl:
    """The URL's parts as libpq takes them; `ConfigError` (not showing the URL) where Python
    and libpq would read it differently: an `@`, `?` or `#` in the user name or password, an
    `@` after the first (or after a `/` in the password, wherever it falls), a `#` in the host
    part."""
    scheme, _, rest = url.partition("://")
    user = password = None
    end = min((i for i in (rest.find("@"), rest.find("/")) if i >= 0), default=len(rest))
    if end < len(rest) and rest[end] == "@":
        userinfo, rest = rest[:end], rest[end + 1 :]
        if "?" in userinfo or "#" in userinfo:
            raise ConfigError(f"{scheme}://...: {_ENCODE}")
        user, colon, secret = userinfo.partition(":")
        password = secret if colon else None
    head, _, query = rest.partition("?")
    hostspec, slash, path = head.partition("/")
    if "@" in head or "#" in hostspec or (user is None and "@" in rest):
        # a second `@`, or a `/` in the password: libpq would read another server (a database
        # name holding an `@` is written %40)
        raise ConfigError(f"{scheme}://...: {_ENCODE}")
    items = tuple((unquote(item.partition("=")[0]), item) for item in query.split("&") if item)
    return PgUrl(scheme, user, password, hostspec, slash + path, items)


def shown(url: str) -> str:
    """The URL as messages show it, every password masked; one that cannot be read safely is
    shown as its scheme only."""
    try:
        return parse(url).shown()
    except ConfigError:
        return f"{url.partition('://')[0]}://..."
