"""Git-notes store: one attestation per line under one notes ref, compare-and-swap writes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from provenance.errors import StoreError
from provenance.gitio.batch import read_objects, stream_lines, write_blob_lines
from provenance.gitio.runner import Git
from provenance.policy import Policy
from provenance.store.interface import (
    MAX_LINE_BYTES,
    STORE_FOR_SCHEME,
    AttestationStore,
    LineScreen,
    NoteLines,
    merge_lines,
    open_store,
    split_lines,
)
from provenance.store.refs import ZERO, drop, rounds, scratch_ref, swap

DEFAULT_NOTES_REF = "refs/notes/provenance"
_MAX_ATTEMPTS = 200


class NotesStore(AttestationStore):
    """Attestations in ``refs/notes/provenance`` (or another explicitly configured ref).

    Writes build a new notes commit on a private temporary ref whose parent is the current
    notes commit, then move the real ref with ``git update-ref REF NEW OLD``: if another writer
    moved it in between, the update fails and we retry from the new tip, so no writer ever
    loses another's note (THREATS.md "Nothing lost").
    """

    default_ref = DEFAULT_NOTES_REF

    def __init__(self, git: Git, ref: str = DEFAULT_NOTES_REF) -> None:
        if not ref.startswith("refs/notes/") or ".." in ref or ref.endswith("/"):
            raise StoreError(f"invalid notes ref {ref!r}", hint="use refs/notes/<name>")
        self.git = git
        self.ref = ref
        self.uri = f"git-notes:{ref}"

    def tip(self) -> str | None:
        """Current notes commit, or ``None`` if the ref does not exist.

        A ref that exists but names no commit (a blob, say) is an error, not an absence:
        writers would otherwise retry forever against a ref they cannot replace. A symbolic ref
        is refused too (THREATS.md G59): writing through one moves the ref it points to (a
        pending ref made a symref to the notes ref had its "clear" delete the attestation).
        """
        self._refuse_symbolic()
        tip = self._commit_tip()
        if tip is not None:
            return tip
        exists = self.git.run("rev-parse", "--verify", "--quiet", self.ref, check=False)
        if exists.returncode == 0 and exists.stdout.strip():
            tip = self._commit_tip()  # another writer may have created it just now
            if tip is not None:
                return tip
            raise StoreError(
                f"{self.ref} exists but does not point to a notes commit",
                hint=f"inspect it with `git cat-file -t {self.ref}`; restore it from a clone",
            )
        return None

    def _refuse_symbolic(self) -> None:
        proc = self.git.run("symbolic-ref", "--quiet", "--end-of-options", self.ref, check=False)
        if proc.returncode == 0:
            target = proc.stdout.decode(errors="replace").strip()
            raise StoreError(
                f"{self.ref} is a symbolic ref (to {target}); provenance never reads or writes "
                "evidence through one",
                hint=f"remove it with `git symbolic-ref --delete {self.ref}` and restore the "
                "ref from a clone",
            )

    def _commit_tip(self) -> str | None:
        proc = self.git.run(
            "rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}", check=False
        )
        tip = proc.stdout.decode().strip()
        return tip if proc.returncode == 0 and tip else None

    @classmethod
    def of_policy(cls, git: Git, policy: Policy) -> NotesStore:
        """The store a policy names (its ``notes_ref``): the one way use cases open it."""
        store = open_store(f"git-notes:{policy.notes_ref}", git)
        assert isinstance(store, NotesStore)
        return store

    def available(self) -> bool:
        return self.tip() is not None

    def _note_blobs(self, ref: str) -> dict[str, str]:
        """Map commit id -> note blob id for every note under ``ref``."""
        out = self.git.out("notes", f"--ref={ref}", "list")
        blobs: dict[str, str] = {}
        for line in out.decode().splitlines():
            blob, _, commit = line.partition(" ")
            if blob and commit:
                blobs[commit] = blob
        return blobs

    def read_many(
        self, commits: Iterable[str], screen: LineScreen | None = None
    ) -> dict[str, list[bytes]]:
        wanted = list(dict.fromkeys(commits))
        result: dict[str, list[bytes]] = {c: [] for c in wanted}
        if self.tip() is None:
            return result
        blobs = self._note_blobs(self.ref)
        # Byte-identical notes on different commits share one blob: a blob maps to every
        # commit carrying it, so none of them loses its lines.
        need: dict[str, list[str]] = {}
        for c in wanted:
            if c in blobs:
                need.setdefault(blobs[c], []).append(c)
        by_blob: dict[str, list[bytes]] = {}
        large: list[str] = []
        for oid, otype, data in read_objects(self.git, list(need)):
            if otype == "blob" and data is None:
                large.append(oid)
            elif otype == "blob" and data is not None:
                by_blob[oid] = NoteLines(screen).extend(data).lines
        for oid in large:  # streamed: a huge note never turns its valid lines into too_large
            note = NoteLines(screen)
            for line in stream_lines(self.git, oid, MAX_LINE_BYTES):
                note.add(line)
            by_blob[oid] = note.lines
        for blob, commits in need.items():
            for commit in commits:
                result[commit] = list(by_blob.get(blob, []))
        return result

    def add_many(self, items: dict[str, Sequence[bytes]]) -> int:
        for _attempt in rounds(self.ref, _MAX_ATTEMPTS):
            old = self.tip()
            tmp = scratch_ref()
            try:
                added, new = self._build(old, tmp, items)
                if added == 0:
                    return 0
                if swap(self.git, self.ref, new, old, "provenance: add attestations"):
                    return added
            finally:
                drop(self.git, tmp)
        raise AssertionError("unreachable: rounds() raises when attempts run out")

    def _build(
        self, old: str | None, tmp: str, items: dict[str, Sequence[bytes]]
    ) -> tuple[int, str]:
        """Write a notes commit on ``tmp`` (parent ``old``) holding the merged lines."""
        if old is not None:
            self.git.out("update-ref", "--no-deref", tmp, old, ZERO)
        existing = self._read_at(tmp, list(items)) if old is not None else {}
        added = 0
        for commit, lines in items.items():
            before = existing.get(commit, [])
            after = merge_lines(before, lines)
            if len(after) == len(before):
                continue
            added += len(after) - len(before)
            blob = (
                self.git.out("hash-object", "-w", "--stdin", input=b"\n".join(after) + b"\n")
                .decode()
                .strip()
            )
            self.git.out("notes", f"--ref={tmp}", "add", "-f", "-C", blob, commit)
        if added == 0:
            return 0, ""
        new = self.git.out("rev-parse", "--verify", tmp).decode().strip()
        return added, new

    def _read_at(self, ref: str, commits: list[str]) -> dict[str, list[bytes]]:
        blobs = self._note_blobs(ref)
        need = {blobs[c]: c for c in commits if c in blobs}
        out: dict[str, list[bytes]] = {}
        for oid, _, data in read_objects(self.git, list(need), max_bytes=1 << 62):
            out[need[oid]] = split_lines(data or b"")
        return out

    # --- listing and rewriting (``prune``, completed pending stamps) -----------------------

    def note_blobs(self) -> dict[str, str]:
        """Commit id -> note blob id for every note under this ref (empty when it is absent)."""
        return self._note_blobs(self.ref) if self.tip() is not None else {}

    def stream_note(self, blob: str) -> Iterator[bytes | None]:
        """A note blob's lines as a stream (``None`` for a line longer than any attestation)."""
        return stream_lines(self.git, blob, MAX_LINE_BYTES)

    def write_note(self, lines: Iterable[bytes]) -> str:
        """Store lines as a note blob (not yet attached to any commit)."""
        return write_blob_lines(self.git, lines)

    def replace_notes(
        self,
        old: str,
        blobs: dict[str, str | None],
        message: str = "provenance: prune refused lines",
    ) -> bool:
        """Attach new note blobs (``None``: remove the note) if the ref is still at ``old``.

        One compare-and-swap attempt: ``False`` when another writer moved the ref, so the
        caller decides again from the new tip and nothing written meanwhile is lost.
        """
        tmp = scratch_ref()
        try:
            self.git.out("update-ref", "--no-deref", tmp, old, ZERO)
            for commit, blob in blobs.items():
                if blob is None:
                    self.git.out("notes", f"--ref={tmp}", "remove", "--ignore-missing", commit)
                else:
                    self.git.out("notes", f"--ref={tmp}", "add", "-f", "-C", blob, commit)
            new = self.git.out("rev-parse", "--verify", tmp).decode().strip()
            return swap(self.git, self.ref, new, old, message)
        finally:
            drop(self.git, tmp)


def _from_uri(ref: str, git: object) -> AttestationStore:
    if not isinstance(git, Git):
        raise StoreError("a git-notes store needs a repository")
    return NotesStore(git, ref)


STORE_FOR_SCHEME["git-notes"] = _from_uri
