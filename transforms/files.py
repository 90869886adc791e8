"""Writing files so a reader never sees half of one: temporary name, fsync, rename."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from transforms.errors import ConfigError


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yields a temporary path beside `final`; on success it is fsynced and renamed to `final`.

    On an error the temporary file is removed and `final` is left as it was.
    """
    temp = _temporary(final)
    try:
        yield temp
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, final)
        _fsync_folder(final.parent)
    finally:
        temp.unlink(missing_ok=True)


def write_once(final: Path, data: bytes) -> bytes | None:
    """Writes `data` at `final` as `atomic_path` does, but never replaces a file already there:
    the fsynced temporary is hard-linked to `final`, which, unlike a rename, is refused when the
    name exists. Returns None when written (or already there with these very bytes: a writer
    finishing what another left), else the other bytes found there, left as they were. A file
    system that has no hard links (some SMB and FUSE mounts) gets the check, then a rename."""
    temp = _temporary(final)
    try:
        temp.write_bytes(data)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        try:
            os.link(temp, final)
        except FileExistsError:
            found = final.read_bytes()
            return None if found == data else found
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                raise
            if final.exists():
                found = final.read_bytes()
                return None if found == data else found
            os.replace(temp, final)
        _fsync_folder(final.parent)
        return None
    finally:
        temp.unlink(missing_ok=True)


_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK)


def require_writable(folder: Path) -> None:
    """Writes and removes an empty file of a temporary name in `folder`, or in the nearest of its
    parents that exists (nothing is made): the machine's refusal (a read-only mount, a file
    where a folder must be, no permission) raised as its `OSError` before anything depends on
    writing there."""
    folder = Path(folder).absolute()
    existing = next(path for path in (folder, *folder.parents) if path.exists())
    probe = _temporary(existing / "writable")
    probe.write_bytes(b"")
    probe.unlink()


def _temporary(final: Path) -> Path:
    """A temporary name beside `final` that no other writer uses: two processes writing the same
    file (two machines finishing one batch in a shared outbox, the first's store session cut
    while it wrote) each rename a whole file of their own, never one the other is writing."""
    # absolute: pyarrow reads a relative path it does not find as a URI, `~/x` as the home's
    return final.absolute().with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")


def temporaries(folder: Path) -> list[Path]:
    """The temporary files `atomic_path` names that are still in `folder`: a writer's that was
    killed (SIGKILL, a machine gone) before it renamed or removed it, or one still writing."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _TEMPORARY.fullmatch(p.name) and p.is_file())


_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{32}\.tmp")  # `_temporary`'s names


def write_text(final: Path, text: str) -> None:
    """Writes UTF-8 text with LF line ends atomically."""
    with atomic_path(final) as temp:
        temp.write_text(text, encoding="utf-8", newline="\n")


def sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def display_name(path: Path, root: Path) -> str:
    """A path as shown in outputs: relative to the incident folder when inside it."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


NOT_EXPANDED = "~ and $VARIABLES are not expanded: write the folder's path itself"


def shell_hint(written: str) -> str:
    """What a path written with a shell's `~` or `$VARIABLE` needs ("" for any other)."""
    return f"; {NOT_EXPANDED}" if written.startswith("~") or "$" in written else ""


_SHELL_WORDS = re.compile(r"^~|\$[{A-Za-z_]")


def unexpanded(written: str) -> str | None:
    """The message for a path to make (an output folder or file, the outbox, a new warehouse)
    written with a shell's `~` or `$VARIABLE` that nothing is named (a quoted argument, an
    env-file line): made as written, a folder `~` or `$HOME` in the current one held what its
    user looked for at home. None for any other, and for one that exists as written."""
    if not _SHELL_WORDS.search(written) or os.path.lexists(written):
        return None
    return f"{written}: {NOT_EXPANDED}"


def backslash_hint(written: str) -> str:
    """What to write instead of a path with Windows' backslashes (none: "")."""
    if "\\" not in written:
        return ""
    slashed = written.replace("\\", "/")
    return f"; a \\ is part of a name here, not a folder separator: write '{slashed}'"


RENAME_TO_UTF8 = "rename it (convmv -f latin1 -t utf8)"


def not_utf8(path: Path | str) -> str | None:
    """`path` shown with its bytes escaped (`pod-\\xe9.log`) when it is not UTF-8 (a file copied
    from a Latin-1 share: Arrow's reader and the run folder's files name paths in UTF-8); None
    when it is."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return None


def resolved(path: Path, what: str) -> Path:
    """`path` absolute, its symbolic links followed; a loop of links (Python 3.11 raises a
    RuntimeError, a bug's exit 1) is a `ConfigError` naming it and `what` it should be, and
    so is a NUL character (a TOML string's `\\u0000`: a ValueError, no file's name holds it)."""
    try:
        return path.resolve()
    except RuntimeError:
        raise ConfigError(f"{path}: a loop of symbolic links, not {what}") from None
    except ValueError:
        shown = str(path).replace("\x00", "\\x00")
        raise ConfigError(
            f"{shown}: a path cannot hold a NUL character (\\x00) ({what}); remove it"
        ) from None


def as_given(value: str) -> str:
    """A path or URL as typed or pasted: without the blanks around it (a `.env` line, a
    paste), unless a file is named with them (" postgresql://..." was read as a path)."""
    return value if value == value.strip() or Path(value).exists() else value.strip()


def near(where: Path, depth: int = 4) -> Iterator[tuple[Path, list[str]]]:
    """Each folder at most `depth` levels below `where` (itself first) with its entries' names,
    hidden folders (`.venv`, `.git`) left out: where to look for what a mistyped path meant.
    Bounded, and blind to a folder it cannot read or that vanishes as it is read (`/proc`'s): a
    path mistyped from `/` or a home folder must not walk the disk or fail on it."""
    for folder, subfolders, names in os.walk(where):
        yield Path(folder), names
        deep = len(Path(folder).relative_to(where).parts) >= depth
        subfolders[:] = [] if deep else [name for name in subfolders if not name.startswith(".")]


def nearest_folder(path: Path) -> Path:
    """`path` when it is a folder, else the nearest of its parents that is one."""
    return next(p for p in (path, *path.parents) if p.is_dir())
