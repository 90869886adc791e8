"""A log file's bytes as the map reads them: decompressed (gzip recognised by its magic bytes,
its members one after the other), hashed on the way, and what it holds that is no text to read
(another compressor's data, a tar archive, UTF-16, binary data) or a file gone since the plan
listed it, replaced, truncated or no longer a regular file, each a `STREAM_ERRORS` the framing
turns into the run's error (`stream_error`).
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import itertools
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from isal import isal_zlib

from transforms.errors import CreditsError, InputError, StorageError

BLOCK_BYTES = 4 << 20  # decompressed bytes framed and checked at once: bounds a file's memory
READ_BYTES = 1 << 20  # compressed bytes read at once
GZIP_MAGIC = b"\x1f\x8b"
GZIP_LAYERS = 3  # gzip inside gzip is read through, up to this deep


class _GzipError(Exception):
    """The gzip stream ended early or is corrupt."""


class _Trailing(Exception):
    """Bytes after the end of a gzip stream (its last member, and any zero padding) that do not
    start another member: a damaged member may hold lines, so they cannot be ignored."""


class _NotGzip(Exception):
    """A file named `.gz` whose bytes are neither gzip nor text, or a file of any name that
    holds another compressor's data or UTF-16 text."""


class _Binary(Exception):
    """A file (or a gzip stream) whose start is binary data, not text (`_binary_start`)."""


class _Unreadable(Exception):
    """A file the plan listed that cannot be opened now: removed since, or not readable."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror or str(error))
        self.errno = error.errno


class _Changed(Exception):
    """A file that is not the one the plan listed, or not all of it: replaced (a rotation that
    renames it and creates a new one), truncated (copytruncate), no longer a regular file."""


# what `Source.pieces` raises
STREAM_ERRORS = (_GzipError, _Trailing, _NotGzip, _Binary, _Unreadable, _Changed)


@dataclass(frozen=True)
class Listed:
    """What the plan saw of a log file: which file its name was (its inode; not its device,
    which another machine's mount of the folder, a Dask worker's, numbers otherwise), and its
    size."""

    inode: int
    bytes: int

    @staticmethod
    def of(path: Path) -> Listed:
        found = path.stat()
        return Listed(found.st_ino, found.st_size)


def stream_error(name: str, error: Exception, after: str) -> CreditsError:
    """The error that stops a run on a broken file (`STREAM_ERRORS`), read up to `after`."""
    if isinstance(error, _Unreadable) and error.errno == errno.ENOENT:
        return InputError(
            f"{name}: removed after the run listed the log files: the logs changed under the "
            "run; run again once they are complete"
        )
    if isinstance(error, _Changed):  # read as it is now, its lines would be missed unseen
        return InputError(
            f"{name}: {error}: the logs changed under the run; run again once they are complete"
        )
    if isinstance(error, _Unreadable):  # the machine refused: exit 4, as a permission is
        return StorageError(
            f"{name}: cannot be read ({error}); make it readable by this user, then run again"
        )
    if isinstance(error, _Trailing):  # every member before them was read to its end marker
        return InputError(
            f"{name}: has bytes after the end of its gzip stream that are not gzip ({error}), "
            f"after {after}: they may be a damaged part holding more lines; fetch the file "
            "again or leave it out of sources.logs"
        )
    if isinstance(error, _Binary):  # read as lines, a few junk ones under the quarantine limit
        return InputError(
            f"{name}: looks like binary data, not text ({error}); convert it to UTF-8 text "
            "(plain or gzip), or leave it out of sources.logs"
        )
    if isinstance(error, _NotGzip) and name.endswith(".gz") and GZIPPED not in str(error):
        return InputError(
            f"{name}: named .gz but it is not gzip ({error}); fetch the file again, "
            "compress it with gzip, or leave it out of sources.logs"
        )
    if isinstance(error, _NotGzip):  # read as text, it would be a few junk "lines"
        return InputError(
            f"{name}: holds {error}, which is not read as text; convert it (logs are UTF-8 "
            "text, plain or gzip), or leave it out of sources.logs"
        )
    return InputError(
        f"{name}: the gzip stream is truncated or corrupt after {after} ({error}); fetch the "
        "file again or leave it out of sources.logs"
    )


# Other compressors' first bytes, and UTF-16's byte-order marks: what a file holds that is
# never text to read line by line, whatever its name (none of them starts a UTF-8 text line).
_MAGICS = {
    b"\xfd7zXZ\x00": "xz data",
    b"\x28\xb5\x2f\xfd": "zstd data",
    b"PK\x03\x04": "zip data",
    b"\xff\xfe\x00\x00": "UTF-32 text",  # before UTF-16 LE's, which its mark starts as
    b"\x00\x00\xfe\xff": "UTF-32 text",
    b"\xff\xfe": "UTF-16 text",
    b"\xfe\xff": "UTF-16 text",
}
# bzip2's: "BZh", the block size, then a block's (pi) or the end's (sqrt pi) magic.
BZIP2 = re.compile(rb"BZh[1-9](\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")


# A compressor's stream that starts inside a text file (a compressed file appended to a text
# one: `cat b.log.gz >> a.log`): its magic bytes, sought only in the lines the framing
# quarantines (`compressed`).
APPENDED = {
    re.compile(rb"\x1f\x8b\x08"): "gzip",
    re.compile(rb"\x28\xb5\x2f\xfd"): "zstd",
    BZIP2: "bzip2",
    re.compile(rb"\xfd7zXZ\x00"): "xz",
}


def compressed(line: bytes | memoryview) -> str | None:
    """The compressor whose magic bytes a line holds (`APPENDED`), None when it holds none."""
    return next((kind for magic, kind in APPENDED.items() if magic.search(line)), None)


def appended(name: str, where: str, kind: str) -> InputError:
    """The error that stops a run on a line (`where` in the file) that holds a compressor's
    data: as lines it was a few junk ones, under the quarantine limit, and the lines
    compressed in it were lost unseen."""
    return InputError(
        f"{name}: holds compressed data at {where}: a compressed file was appended to a text "
        f"one ({kind} data, read as a few junk lines, its own lines lost); decompress it and "
        "append its text instead, or leave the file out of sources.logs"
    )


GZIPPED = "inside gzip"
# A file is binary when more than half of the lines of its first block (`BLOCK_BYTES`,
# decompressed; zero padding set aside) hold a control character no text line holds: C0 but
# tab, LF, VT, FF, CR, ESC (colour codes), and BEL, BS, SO, SI (a terminal's bell, backspace and
# character sets, which some services write). Bytes that are not UTF-8 do not count (Latin-1
# text is quarantined line by line), nor do junk lines among text, at its start or after it
# (quarantined as lines): the whole block is judged, not only its first bytes.
CONTROL = re.compile(rb"[\x00-\x06\x10-\x1a\x1c-\x1f]")
_NOT_CONTROL = bytes(b for b in range(256) if not CONTROL.match(bytes([b])))  # to delete
# Zero padding, what a crash leaves (a file extended, its data never written) or a copytruncate
# rotation (the writer still at its old offset): set aside; the line it is glued to is
# quarantined as any bad line.
ZERO_PADDING = re.compile(rb"\x00{16,}")
TAR_MAGIC = (257, b"ustar")  # a tar header's magic, at its offset


def not_text(first: bytes) -> str | None:
    """What a file's (or a gzip stream's) first bytes say it holds, when that is not text to
    read: another compressor's data, a tar archive, UTF-16 text."""
    if BZIP2.match(first):
        return "bzip2 data"
    if first[TAR_MAGIC[0] : TAR_MAGIC[0] + len(TAR_MAGIC[1])] == TAR_MAGIC[1]:
        return "a tar archive"
    return next((kind for magic, kind in _MAGICS.items() if first.startswith(magic)), None)


def _binary_start(head: bytes) -> str | None:
    """What the start of a file (or a gzip stream) looks like when it is binary data rather
    than text (see `CONTROL`), None when it is text."""
    sample = head[:BLOCK_BYTES]
    if b"\x00" * 16 in sample:
        sample = ZERO_PADDING.sub(b"", sample)
    if not sample.translate(None, _NOT_CONTROL):  # no control character: text (most files)
        return None
    lines = [line for line in sample.split(b"\n") if line.strip()]
    binary = sum(CONTROL.search(line) is not None for line in lines)
    if binary * 2 <= len(lines):
        return None
    # The collector's file exporter with `format: proto`: each message after its length in 4
    # bytes, big-endian (under 16 MiB: a zero first), a request's first field the byte 0x0a;
    # with `compression: zstd`, each message a zstd frame so (no zstd file: `zstd -d` fails).
    if head[:1] == b"\x00" and head[4:5] == b"\n":
        return (
            "length-prefixed protobuf, as the OpenTelemetry collector's file exporter writes "
            "with `format: proto`: its `format: json` is what is read"
        )
    if head[:1] == b"\x00" and head[4:8] == b"\x28\xb5\x2f\xfd":
        return (
            "length-prefixed zstd frames, as the OpenTelemetry collector's file exporter writes "
            "with `compression: zstd`: leave it off (its `format: json` lines are read, plain "
            "or gzip)"
        )
    # JSON text sequences (RFC 7464), as `journalctl -o json-seq` writes: an RS before each record
    if sum(line.startswith(b"\x1e{") for line in lines) * 2 > len(lines):
        return (
            "JSON text sequences, RFC 7464: an RS byte, 0x1E, before each record, as journalctl "
            "-o json-seq writes: export with -o json, or delete the RS bytes: tr -d '\\036'"
        )
    return (
        f"{binary} of the {len(lines)} lines in its first {len(sample)} bytes hold control "
        "characters"
    )


def _text(pieces: Iterator[bytes], inside: str) -> Iterator[bytes]:
    """The pieces, once their first block is known to be text: `_Binary` (naming where:
    `inside` gzip, or '') when it is not. A stream that breaks this early is judged on what it
    gave, which is framed before its error is raised (the error names the last line read)."""
    peeked: list[bytes] = []
    broken: Exception | None = None
    size = 0
    try:
        for piece in pieces:
            peeked.append(piece)
            size += len(piece)
            if size >= BLOCK_BYTES:
                break
    except STREAM_ERRORS as error:
        broken = error
    if (kind := _binary_start(b"".join(peeked))) is not None:
        raise _Binary(f"{kind} {inside}".rstrip())
    yield from peeked
    if broken is not None:
        raise broken
    yield from pieces


class Source:
    """The decompressed bytes of one log file in pieces, hashing the file's own bytes on the way.

    Gzip is recognised by its magic bytes, not the name; members are read one after the other
    and zero padding after a member is skipped, as `gzip` does.
    """

    def __init__(self, path: Path, listed: Listed | None = None):
        self.path = path
        self.listed = listed  # what the plan saw: the file read must be that one, all of it
        self._hash = hashlib.sha256()
        self._size = 0
        self._to_the_end = False  # the pieces were read to the file's end

    def pieces(self) -> Iterator[bytes]:
        yield from self._pieces()
        self._to_the_end = True

    def _pieces(self) -> Iterator[bytes]:
        try:  # not blocking: a named pipe put in the file's place is refused, never waited on
            descriptor = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as error:
            raise _Unreadable(error) from None
        try:
            self._check(os.fstat(descriptor))
        except _Changed:
            os.close(descriptor)
            raise
        with os.fdopen(descriptor, "rb") as handle:
            first = handle.read(READ_BYTES)
            self._count(first)
            if first.startswith(GZIP_MAGIC):
                inflated = _inflate(self._read(first, handle))
                head = next(inflated, b"")
                for _ in range(GZIP_LAYERS - 1):  # gzip again inside: Firehose's own GZIP
                    if not head.startswith(GZIP_MAGIC):  # over CloudWatch's, for one
                        break
                    inflated = _inflate(itertools.chain([head], inflated))
                    head = next(inflated, b"")
                if head.startswith(GZIP_MAGIC):
                    raise _NotGzip(f"gzip {GZIPPED} {GZIP_LAYERS} times over")
                if (kind := not_text(head)) is not None:  # a .tar.gz, bzip2 gzipped again
                    raise _NotGzip(f"{kind} {GZIPPED}")
                yield from _text(itertools.chain([head] if head else [], inflated), GZIPPED)
                return
            # Read as text it would be a few or hundreds of junk "lines", caught only by the
            # quarantine limit, if at all. (A plain text file named .gz is read as text.)
            if (kind := not_text(first)) is not None:
                raise _NotGzip(kind)
            if self.path.name.endswith(".gz") and _binary(first):
                raise _NotGzip("binary data, not gzip's 1f 8b")
            yield from _text(self._read(first, handle, BLOCK_BYTES), "")

    def _check(self, found: os.stat_result) -> None:
        """`_Changed` when the file opened is not the one the plan listed, or shorter."""
        if not stat.S_ISREG(found.st_mode):
            kind = (
                "a directory"
                if stat.S_ISDIR(found.st_mode)
                else "a named pipe"
                if stat.S_ISFIFO(found.st_mode)
                else "a socket or a device"
            )
            raise _Changed(f"no longer a regular file ({kind}) since the run listed the log files")
        listed = self.listed
        if listed is None:
            return
        if found.st_ino != listed.inode:
            raise _Changed("replaced by another file (rotated?) since the run listed the log files")
        if found.st_size < listed.bytes:
            raise _Changed(
                f"shorter ({found.st_size} bytes) than the {listed.bytes} bytes listed (truncated, "
                "by a copytruncate rotation?)"
            )

    def _read(self, first: bytes, handle, size: int = READ_BYTES) -> Iterator[bytes]:
        """The file's bytes from `first` on, `size` at a time, counted and hashed as read;
        `_Changed` when the file ends shorter than the bytes read (truncated meanwhile: the
        rest was never read)."""
        data = first
        while data:
            yield data
            data = handle.read(size)
            self._count(data)
        if (now := os.fstat(handle.fileno()).st_size) < self._size:
            raise _Changed(
                f"shorter ({now} bytes) than the {self._size} bytes read (truncated while the "
                "run read it, by a copytruncate rotation?)"
            )

    def _count(self, data: bytes) -> None:
        self._hash.update(data)
        self._size += len(data)

    def finish(self) -> tuple[str, int]:
        """The sha256 and size of the bytes the run read: of the whole file as it was when read
        to its end (lines appended since, by a writer still at it, are not this run's: hashed,
        they would be in the manifest's proof and in no bucket), else (a stream that broke)
        with what no reader consumed hashed too."""
        if not self._to_the_end:
            with open(self.path, "rb") as handle:
                handle.seek(self._size)
                while data := handle.read(READ_BYTES):
                    self._count(data)
        return self._hash.hexdigest(), self._size


def _inflate(compressed: Iterator[bytes]) -> Iterator[bytes]:
    """Gzip's members one after the other, zero padding after a member skipped, as `gzip` does."""
    inflater = isal_zlib.decompressobj(wbits=31)
    for piece in compressed:
        data = piece
        while data:
            if inflater.eof:
                data = data.lstrip(b"\x00")
                if not data:
                    break
                if not GZIP_MAGIC.startswith(data[: len(GZIP_MAGIC)]):
                    raise _Trailing(data[:8].hex(" ") + (" ..." if len(data) > 8 else ""))
                inflater = isal_zlib.decompressobj(wbits=31)
            try:
                out = inflater.decompress(data, BLOCK_BYTES)
            except isal_zlib.error as error:
                raise _GzipError(str(error)) from None
            if out:
                yield out
            data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
    try:
        tail = inflater.flush()
    except isal_zlib.error as error:
        raise _GzipError(str(error)) from None
    if tail:
        yield tail
    if not inflater.eof:
        raise _GzipError("the stream ends before its end marker")


def _binary(data: bytes) -> bool:
    """Whether the start of a file is not text: a NUL byte, or bytes that are not UTF-8."""
    head = data[:4096]
    if b"\x00" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return False
