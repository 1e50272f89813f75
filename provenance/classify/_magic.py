"""Is a blob an archive, compressed data, a pickle or compiled code? Decided by its first bytes.

An extension list cannot answer that (red-team 07: ``.pkl``, ``.joblib``, ``.pt``, ``.jmod``,
``.py.gz``, ``.a``, and a snap package named ``.snap``, which was inert everywhere). The
formats below carry code, or data that runs code when loaded, and none of them can be
reviewed from a diff. Only blobs that read as binary are sniffed (a NUL byte or invalid
UTF-8 in their head), so text that happens to start with ``MZ`` or ``PK`` is never taken for
one. The head comes from the whole blob when it was read, else from the diff when its first
hunk starts at line one (an added file); otherwise the classifier asks for the blob.
"""

from __future__ import annotations

import re

from provenance.models import FileChange

#: Bytes of a blob's beginning that are sniffed.
HEAD_BYTES = 4096

#: (format, magic at offset 0).
_AT_START: tuple[tuple[str, bytes], ...] = (
    ("zip", b"PK\x03\x04"),
    ("zip", b"PK\x05\x06"),
    ("zip", b"PK\x07\x08"),
    ("gzip", b"\x1f\x8b"),
    ("compress", b"\x1f\x9d"),
    ("xz", b"\xfd7zXZ\x00"),
    ("zstd", b"\x28\xb5\x2f\xfd"),
    ("lz4", b"\x04\x22\x4d\x18"),
    ("lzip", b"LZIP"),
    ("7z", b"7z\xbc\xaf\x27\x1c"),
    ("rar", b"Rar!\x1a\x07"),
    ("ar", b"!<arch>\n"),
    ("rpm", b"\xed\xab\xee\xdb"),
    ("squashfs", b"hsqs"),
    ("squashfs", b"sqsh"),
    ("cpio", b"070701"),
    ("cpio", b"070702"),
    ("cpio", b"070707"),
    ("cpio", b"\xc7\x71"),
    ("cpio", b"\x71\xc7"),
    ("cab", b"MSCF\x00\x00\x00\x00"),
    ("ole", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),  # .msi, legacy Office with macros
    ("elf", b"\x7fELF"),
    ("mach-o", b"\xfe\xed\xfa\xce"),
    ("mach-o", b"\xfe\xed\xfa\xcf"),
    ("mach-o", b"\xce\xfa\xed\xfe"),
    ("mach-o", b"\xcf\xfa\xed\xfe"),
    ("java-class", b"\xca\xfe\xba\xbe"),  # also a universal Mach-O binary
    ("java-serialized", b"\xac\xed\x00\x05"),
    ("pe", b"MZ"),
    ("wasm", b"\x00asm"),
    ("dex", b"dex\n0"),
    ("lua-bytecode", b"\x1bLua"),
    ("llvm-bitcode", b"BC\xc0\xde"),
    ("numpy", b"\x93NUMPY"),
    ("jmod", b"JM\x01\x00"),
)
_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")
_PICKLE = re.compile(rb"\x80[\x02-\x05]")  # the PROTO opcode of protocols 2 to 5
_BEAM = re.compile(rb"FOR1....BEAM", re.DOTALL)
_PYC = re.compile(rb"..\r\n", re.DOTALL)  # a two-byte version magic, then CR LF
_TAR = b"ustar"
_LOCAL_ZIP = b"PK\x03\x04"


def binary(head: bytes) -> bool:
    """Does a blob's beginning read as binary (a NUL byte, or not UTF-8)?"""
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start < len(head) - 3  # a character cut at the end of the head is fine
    return False


def packaged(head: bytes) -> str | None:
    """The code-bearing format a binary blob's first bytes show, if any."""
    if not head or not binary(head):
        return None
    for name, magic in _AT_START:
        if head.startswith(magic):
            return name
    for name, pattern in (("bzip2", _BZIP2), ("pickle", _PICKLE), ("beam", _BEAM)):
        if pattern.match(head):
            return name
    if _PYC.match(head) and len(head) >= 16:
        return "python-bytecode"
    if head[257:262] == _TAR:
        return "tar"
    if _LOCAL_ZIP in head:  # a zip behind a shebang or stub: .pyz, .pex, self-extracting
        return "zip"
    return None


def head_of(change: FileChange) -> bytes | None:
    """The new blob's first bytes, from its source or from a diff that starts at line one."""
    if change.new_source is not None:
        return change.new_source[:HEAD_BYTES].encode("utf-8", "surrogateescape")[:HEAD_BYTES]
    if not change.hunks or change.hunks[0][2] > 1 or not change.hunks[0][3]:
        return None
    first = change.added[: change.hunks[0][3]]
    return "\n".join(first).encode("utf-8", "surrogateescape")[:HEAD_BYTES]


def looks_binary(change: FileChange) -> bool:
    """Do the added lines read as binary (``--text`` diffs show binary blobs as lines)?"""
    return any("\x00" in ln or (not ln.isprintable() and _undecodable(ln)) for ln in change.added)


def _undecodable(line: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in line)
