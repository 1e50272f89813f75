"""Move attestations between clones: fetch, union merge, fast-forward push, retry. Never force.

One round: fetch the remote notes ref into a private temporary ref, merge it into the local
ref by union (``git notes merge -s cat_sort_uniq`` on a second private ref, then a
compare-and-swap ``update-ref`` of the real one, so a concurrent local stamper is never
overwritten), check that no line of either side went missing, and push the result with a
plain refspec (no ``+``, no ``--force``). The merged commit has the remote tip as an ancestor,
so the push is a fast-forward; when the remote moved in between, the push is rejected and the
round starts again from a fresh fetch (THREATS.md "Nothing lost"). Any other refusal, and a
remote notes ref that is not a commit, is an error at once, never "the remote kept moving".

Fetch and push go through :mod:`provenance.gitio.transport`, which never reads the
repository's own configuration (G53). Notes are compared as git reads them (``git notes
list``), not by joining tree paths: a blob at a path git does not read as a note is no note
(G60). Note blobs are sized before they are read, and a merge that would make a note larger
than the verifier reads (or give it more lines than it counts) is refused, so a remote cannot
turn valid local evidence into ``too_large`` or grow this process's memory at will (G62).
"""

from __future__ import annotations

import os
import random
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from provenance.errors import GitError, StoreError
from provenance.gitio.batch import MAX_OBJECT_BYTES, read_objects
from provenance.gitio.remotes import Endpoint
from provenance.gitio.runner import Git
from provenance.gitio.transport import Transport
from provenance.store.interface import MAX_LINES_PER_COMMIT, split_lines
from provenance.store.notes import DEFAULT_NOTES_REF, NotesStore
from provenance.store.refs import ZERO, drop, rounds, swap

_OID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
#: The largest note blob sync reads or produces: what the notes store's reader reads at all.
MAX_NOTE_BYTES = MAX_OBJECT_BYTES
_TMP_PREFIX = "refs/notes/provenance-sync"
_IDENT_FALLBACK = {
    "GIT_AUTHOR_NAME": "provenance sync",
    "GIT_AUTHOR_EMAIL": "provenance-sync@localhost",
    "GIT_COMMITTER_NAME": "provenance sync",
    "GIT_COMMITTER_EMAIL": "provenance-sync@localhost",
}
_LOCAL_CAS_ATTEMPTS = 50


@dataclass(frozen=True)
class SyncResult:
    """What one ``sync`` did."""

    remote: str
    ref: str
    remote_tip: str | None
    local_before: str | None
    local_after: str | None
    merged: bool
    pushed: bool
    attempts: int


def _ident_env(git: Git) -> dict[str, str] | None:
    """Committer identity for the merge commit: the user's, else a fixed fallback."""
    if git.run("var", "GIT_COMMITTER_IDENT", check=False).returncode == 0:
        return None
    return dict(_IDENT_FALLBACK)


class NotesSync:
    """Synchronise one notes ref with one remote; every git call goes through :class:`Git`."""

    def __init__(
        self, git: Git, endpoint: Endpoint, transport: Transport, ref: str = DEFAULT_NOTES_REF
    ) -> None:
        self.store = NotesStore(git, ref)  # validates the ref name
        self.git = git
        self.endpoint = endpoint
        self.transport = transport
        self.remote = endpoint.label
        self.ref = ref

    def fetch(self, into: str) -> str | None:
        """Fetch the remote's notes ref into the private ref ``into``; ``None`` if it has none."""
        local = self.store.tip()
        try:
            oid = self.transport.fetch(self.endpoint.fetch_url, self.ref, [local] if local else [])
        except GitError as e:
            raise StoreError(
                str(e), hint="check the remote name or URL and your access to it"
            ) from e
        if oid is None:
            return None
        self.git.out("update-ref", "--no-deref", into, oid, ZERO)  # kept from gc meanwhile
        kind = self.git.out("cat-file", "-t", oid).decode().strip()
        if kind != "commit":
            raise StoreError(
                f"{self.ref} on {self.remote} points to a {kind}, not to a notes commit",
                hint="someone replaced the remote's notes ref; restore it from a clone "
                "that has the attestations (nothing was changed here)",
            )
        return oid

    def _rev(self, ref: str) -> str | None:
        proc = self.git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        out = proc.stdout.decode().strip()
        return out if proc.returncode == 0 and out else None

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return self.git.is_ancestor(older, newer)

    def merge(self, remote_tip: str | None, scratch: str) -> tuple[str | None, bool]:
        """Union ``remote_tip`` into the local ref (compare-and-swap); returns (tip, merged)."""
        for _attempt in rounds(self.ref, _LOCAL_CAS_ATTEMPTS, pause=0.2):
            old = self.store.tip()
            if remote_tip is None or old == remote_tip:
                return old, False
            # Descending from the other side does not mean holding its lines (a note can be
            # overwritten or removed in a later notes commit), so fast-forwards are checked too.
            if old is None:
                new = remote_tip
            elif self._is_ancestor(remote_tip, old):
                extra = self._missing_lines(old, remote_tip)
                if not extra:
                    return old, False
                new = self._with_lines(old, extra, scratch)  # then pushed: a fast-forward
            elif self._is_ancestor(old, remote_tip):
                extra = self._missing_lines(remote_tip, old)
                new = self._with_lines(remote_tip, extra, scratch) if extra else remote_tip
            else:
                new = self._union(old, remote_tip, scratch)
            if old is not None:
                self._check_union(old, remote_tip, new)
            self._check_sizes(old, new)
            if swap(self.git, self.ref, new, old, "provenance: sync"):
                return new, True
        raise AssertionError("unreachable: rounds() raises when attempts run out")

    def _union(self, old: str, remote_tip: str, scratch: str) -> str:
        """A two-parent notes commit holding every line of both sides (sorted, deduplicated)."""
        drop(self.git, scratch)
        self.git.out("update-ref", "--no-deref", scratch, old, ZERO)
        self.git.run(
            "notes",
            f"--ref={scratch}",
            "merge",
            "--quiet",
            "--strategy=cat_sort_uniq",
            "--end-of-options",
            remote_tip,
            env=_ident_env(self.git),
        )
        new = self._rev(scratch)
        if new is None:
            raise StoreError("git notes merge left no result")
        return new

    def _missing_lines(self, have: str, want: str) -> dict[str, Sequence[bytes]]:
        """Lines of ``want``'s notes that ``have``'s notes lack, per annotated commit."""
        mine, theirs = self._notes(have), self._notes(want)
        differ = [c for c, blob in theirs.items() if mine.get(c) != blob]
        blobs = sorted({b for c in differ for b in (mine.get(c), theirs[c]) if b})
        lines = self._read_lines(blobs)
        missing: dict[str, Sequence[bytes]] = {}
        for c in differ:
            present = set(lines.get(mine.get(c, ""), []))
            extra = [ln for ln in lines.get(theirs[c], []) if ln not in present]
            if extra:
                missing[c] = extra
        return missing

    def _with_lines(self, tip: str, extra: dict[str, Sequence[bytes]], scratch: str) -> str:
        """A notes commit on top of ``tip`` that also holds ``extra`` (appended per commit)."""
        drop(self.git, scratch)
        self.git.out("update-ref", "--no-deref", scratch, tip, ZERO)
        NotesStore(self.git, scratch).add_many(extra)
        new = self._rev(scratch)
        if new is None:
            raise StoreError("adding the missing notes lines left no result")
        return new

    def _notes(self, rev: str) -> dict[str, str]:
        """Annotated commit -> note blob in notes commit ``rev``, as git itself reads notes."""
        view = f"{_TMP_PREFIX}/{os.getpid()}-{uuid.uuid4().hex}/view"
        self.git.out("update-ref", "--no-deref", view, rev, ZERO)
        try:
            out = self.git.out("notes", f"--ref={view}", "list").decode()
        finally:
            drop(self.git, view)
        notes: dict[str, str] = {}
        for line in out.splitlines():
            blob, _, commit = line.partition(" ")
            if _OID.match(blob) and _OID.match(commit):
                notes[commit] = blob
        return notes

    def _sizes(self, blobs: Sequence[str]) -> dict[str, int]:
        """Object sizes without reading the objects (``cat-file --batch-check``)."""
        if not blobs:
            return {}
        out = self.git.out("cat-file", "--batch-check", input="".join(f"{b}\n" for b in blobs)
                           .encode())  # fmt: skip
        sizes: dict[str, int] = {}
        for line in out.decode().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].isdigit():
                sizes[parts[0]] = int(parts[2])
        return sizes

    def _read_lines(self, blobs: Sequence[str]) -> dict[str, list[bytes]]:
        """Lines of each note blob; a blob larger than a note may be is refused before reading."""
        for blob, size in self._sizes(blobs).items():
            if size > MAX_NOTE_BYTES:
                raise StoreError(
                    f"a note blob ({blob}) of {size} bytes is larger than the {MAX_NOTE_BYTES} "
                    "bytes a note may have; nothing was changed",
                    hint="find the commit with `git notes --ref=REF list | grep BLOB` and have "
                    "the note rewritten without its junk",
                )
        return {
            oid: split_lines(data or b"")
            for oid, _, data in read_objects(self.git, blobs, max_bytes=MAX_NOTE_BYTES)
        }

    def _check_union(self, old: str, remote_tip: str, new: str) -> None:
        """Refuse a merge result that lacks any line of either side (never drop a line)."""
        mine, theirs, merged = self._notes(old), self._notes(remote_tip), self._notes(new)
        suspect = set()
        for c in mine.keys() | theirs.keys():
            sides = {mine.get(c), theirs.get(c)} - {None}
            if len(sides) != 1 or merged.get(c) not in sides:
                suspect.add(c)  # the sides differ, or the result is not the one side's note
        blobs = {b for c in suspect for b in (mine.get(c), theirs.get(c), merged.get(c)) if b}
        lines = {oid: set(ls) for oid, ls in self._read_lines(sorted(blobs)).items()}
        for c in sorted(suspect):
            need = lines.get(mine.get(c, ""), set()) | lines.get(theirs.get(c, ""), set())
            if not need <= lines.get(merged.get(c, ""), set()):
                raise StoreError(f"merging notes of {c} would drop lines; nothing was changed")

    def _check_sizes(self, old: str | None, new: str) -> None:
        """Refuse a result whose changed notes the verifier would read as too large or too many.

        Only commits that have a local note count: a remote's junk must not turn the local
        evidence of a commit into a refusal. Blobs are sized before anything is read.
        """
        mine = self._notes(old) if old else {}
        merged = self._notes(new)
        changed = {c: b for c, b in merged.items() if c in mine and mine[c] != b}
        lines = self._read_lines(sorted({*changed.values(), *(mine[c] for c in changed)}))
        for c, blob in sorted(changed.items()):
            count, before = len(lines.get(blob, [])), len(lines.get(mine[c], []))
            if count > MAX_LINES_PER_COMMIT >= before:
                raise StoreError(
                    f"merging {self.remote}'s notes would give {c} {count} lines, more than "
                    f"the {MAX_LINES_PER_COMMIT} the gate reads; nothing was changed",
                    hint="the remote holds junk lines for that commit: have them removed there",
                )

    def push(self, tip: str) -> tuple[bool, str]:
        """Fast-forward push of ``tip`` (never forced); (accepted, git's message).

        Rejected because the remote moved (``fetch first``, ``non-fast-forward``): ``False``,
        merge again. Any other refusal is an error now.
        """
        try:
            done = self.transport.push(self.endpoint.push_url, tip, self.ref)
        except GitError as e:
            raise StoreError(str(e), hint="check the remote URL and your access to it") from e
        if done.accepted or done.moved:
            return done.accepted, done.message
        raise StoreError(f"git push {self.remote} failed: {done.message}")

    def run(
        self, *, attempts: int = 12, before_push: Callable[[int], None] | None = None
    ) -> SyncResult:
        """Fetch, merge and push until the push is accepted or ``attempts`` rounds failed.

        ``before_push(attempt)`` runs between merge and push (tests use it to move the remote).
        """
        local_before = self.store.tip()
        merged_any = False
        last = ""
        for attempt in range(1, attempts + 1):
            base = f"{_TMP_PREFIX}/{os.getpid()}-{uuid.uuid4().hex}"
            try:
                remote_tip = self.fetch(f"{base}/remote")
                tip, merged = self.merge(remote_tip, f"{base}/local")
                merged_any |= merged
                if tip is None or tip == remote_tip:
                    return SyncResult(
                        self.remote, self.ref, remote_tip, local_before, tip, merged_any, False,
                        attempt,
                    )  # fmt: skip
                if before_push is not None:
                    before_push(attempt)
                accepted, last = self.push(tip)
                if accepted:
                    return SyncResult(
                        self.remote, self.ref, remote_tip, local_before, tip, merged_any, True,
                        attempt,
                    )  # fmt: skip
            finally:
                for name in ("remote", "local"):
                    drop(self.git, f"{base}/{name}")
            time.sleep(min(1.0, 0.02 * attempt) * (0.5 + random.random()))  # noqa: S311
        raise StoreError(
            f"the remote kept moving: push of {self.ref} rejected {attempts} times: {last.strip()}",
            hint="run `provenance sync` again; nothing was lost locally",
        )
