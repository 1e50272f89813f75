"""Move attestations between clones: fetch, union merge, fast-forward push, retry. Never force.

One round: fetch the remote notes ref into a private temporary ref, merge it into the local
ref by union (``git notes merge -s cat_sort_uniq`` on a second private ref, then a
compare-and-swap ``update-ref`` of the real one, so a concurrent local stamper is never
overwritten), check that no line of either side went missing, and push the result with a
plain refspec (no ``+``, no ``--force``). The merged commit has the remote tip as an ancestor,
so the push is a fast-forward; when the remote moved in between, the push is rejected and the
round starts again from a fresh fetch (THREATS.md "Nothing lost").
"""

from __future__ import annotations

import os
import random
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from provenance.errors import StoreError
from provenance.gitio.batch import read_objects
from provenance.gitio.runner import Git
from provenance.store.interface import split_lines
from provenance.store.notes import DEFAULT_NOTES_REF, NotesStore

_ZERO = "0" * 40
_OID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_TMP_PREFIX = "refs/notes/provenance-sync"
_IDENT_FALLBACK = {
    "GIT_AUTHOR_NAME": "provenance sync",
    "GIT_AUTHOR_EMAIL": "provenance-sync@localhost",
    "GIT_COMMITTER_NAME": "provenance sync",
    "GIT_COMMITTER_EMAIL": "provenance-sync@localhost",
}
_LOCAL_CAS_ATTEMPTS = 50

#: Fetch and push refspecs a pipeline uses without ``provenance sync`` (documented in README).
CI_FETCH_REFSPEC = f"{DEFAULT_NOTES_REF}:{DEFAULT_NOTES_REF}"
CI_PUSH_REFSPEC = f"{DEFAULT_NOTES_REF}:{DEFAULT_NOTES_REF}"


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


def _check_remote(remote: str) -> None:
    if not remote or remote.startswith("-") or any(c in remote for c in "\n\r\0"):
        raise StoreError(f"invalid remote {remote!r}", hint="name a remote (origin) or a URL")


def _ident_env(git: Git) -> dict[str, str] | None:
    """Committer identity for the merge commit: the user's, else a fixed fallback."""
    if git.run("var", "GIT_COMMITTER_IDENT", check=False).returncode == 0:
        return None
    return dict(_IDENT_FALLBACK)


def _transport_hardening(remote: str) -> tuple[str, ...]:
    """Pin the programs git runs for a named remote's local transport."""
    return (
        "-c",
        f"remote.{remote}.uploadpack=git-upload-pack",
        "-c",
        f"remote.{remote}.receivepack=git-receive-pack",
    )


class NotesSync:
    """Synchronise one notes ref with one remote; every git call goes through :class:`Git`."""

    def __init__(self, git: Git, remote: str, ref: str = DEFAULT_NOTES_REF) -> None:
        _check_remote(remote)
        self.store = NotesStore(git, ref)  # validates the ref name
        self.git = git
        self.remote = remote
        self.ref = ref

    def fetch(self, into: str) -> str | None:
        """Fetch the remote's notes ref into the private ref ``into``; ``None`` if it has none."""
        proc = self.git.run(
            *_transport_hardening(self.remote),
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--end-of-options",
            self.remote,
            f"+{self.ref}:{into}",  # forced only into our own temporary ref
            check=False,
        )
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace")
            if "couldn't find remote ref" in err:
                return None
            raise StoreError(
                f"git fetch {self.remote} failed: {err.strip()}",
                hint="check the remote name or URL and your access to it",
            )
        return self._rev(into)

    def _rev(self, ref: str) -> str | None:
        proc = self.git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        out = proc.stdout.decode().strip()
        return out if proc.returncode == 0 and out else None

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return (
            self.git.run("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0
        )

    def merge(self, remote_tip: str | None, scratch: str) -> tuple[str | None, bool]:
        """Union ``remote_tip`` into the local ref (compare-and-swap); returns (tip, merged)."""
        for attempt in range(_LOCAL_CAS_ATTEMPTS):
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
            moved = self.git.run(
                "update-ref", "-m", "provenance: sync", self.ref, new, old or _ZERO, check=False
            )
            if moved.returncode == 0:
                return new, True
            time.sleep(min(0.2, 0.005 * (attempt + 1)) * random.random())  # noqa: S311
        raise StoreError(
            f"could not update {self.ref}: too much concurrent writing",
            hint="retry the command; nothing was lost",
        )

    def _union(self, old: str, remote_tip: str, scratch: str) -> str:
        """A two-parent notes commit holding every line of both sides (sorted, deduplicated)."""
        self.git.run("update-ref", "-d", scratch, check=False)
        self.git.out("update-ref", scratch, old, _ZERO)
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
        lines = {
            oid: split_lines(data or b"")
            for oid, _, data in read_objects(self.git, blobs, max_bytes=1 << 62)
        }
        missing: dict[str, Sequence[bytes]] = {}
        for c in differ:
            present = set(lines.get(mine.get(c, ""), []))
            extra = [ln for ln in lines.get(theirs[c], []) if ln not in present]
            if extra:
                missing[c] = extra
        return missing

    def _with_lines(self, tip: str, extra: dict[str, Sequence[bytes]], scratch: str) -> str:
        """A notes commit on top of ``tip`` that also holds ``extra`` (appended per commit)."""
        self.git.run("update-ref", "-d", scratch, check=False)
        self.git.out("update-ref", scratch, tip, _ZERO)
        NotesStore(self.git, scratch).add_many(extra)
        new = self._rev(scratch)
        if new is None:
            raise StoreError("adding the missing notes lines left no result")
        return new

    def _notes(self, rev: str) -> dict[str, str]:
        """Annotated commit -> note blob in notes commit ``rev`` (fanout directories joined)."""
        out = self.git.out("ls-tree", "-r", "-z", "--end-of-options", rev)
        notes: dict[str, str] = {}
        for entry in out.split(b"\0"):
            meta, _, path = entry.decode(errors="replace").partition("\t")
            parts = meta.split()
            name = path.replace("/", "")
            if len(parts) == 3 and parts[1] == "blob" and _OID.match(name):
                notes[name] = parts[2]
        return notes

    def _check_union(self, old: str, remote_tip: str, new: str) -> None:
        """Refuse a merge result that lacks any line of either side (never drop a line)."""
        mine, theirs, merged = self._notes(old), self._notes(remote_tip), self._notes(new)
        suspect = set()
        for c in mine.keys() | theirs.keys():
            sides = {mine.get(c), theirs.get(c)} - {None}
            if len(sides) != 1 or merged.get(c) not in sides:
                suspect.add(c)  # the sides differ, or the result is not the one side's note
        blobs = {b for c in suspect for b in (mine.get(c), theirs.get(c), merged.get(c)) if b}
        lines = {
            oid: set(split_lines(data or b""))
            for oid, _, data in read_objects(self.git, sorted(blobs), max_bytes=1 << 62)
        }
        for c in sorted(suspect):
            need = lines.get(mine.get(c, ""), set()) | lines.get(theirs.get(c, ""), set())
            if not need <= lines.get(merged.get(c, ""), set()):
                raise StoreError(f"merging notes of {c} would drop lines; nothing was changed")

    def push(self) -> tuple[bool, str]:
        """Fast-forward push of the local ref (never forced); (accepted, git's message)."""
        proc = self.git.run(
            *_transport_hardening(self.remote),
            "push",
            "--porcelain",
            "--quiet",
            "--no-verify",
            "--end-of-options",
            self.remote,
            f"{self.ref}:{self.ref}",
            check=False,
        )
        out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        if proc.returncode == 0:
            return True, out
        if any(line.startswith("!") for line in out.splitlines()):
            return False, out  # rejected (remote moved, or lost a lock race): merge again
        raise StoreError(f"git push {self.remote} failed: {out.strip()}")

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
                accepted, last = self.push()
                if accepted:
                    return SyncResult(
                        self.remote, self.ref, remote_tip, local_before, tip, merged_any, True,
                        attempt,
                    )  # fmt: skip
            finally:
                for name in ("remote", "local"):
                    self.git.run("update-ref", "-d", f"{base}/{name}", check=False)
            time.sleep(min(1.0, 0.02 * attempt) * (0.5 + random.random()))  # noqa: S311
        raise StoreError(
            f"the remote kept moving: push of {self.ref} rejected {attempts} times: {last.strip()}",
            hint="run `provenance sync` again; nothing was lost locally",
        )
