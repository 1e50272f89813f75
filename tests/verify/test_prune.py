"""``provenance prune`` removes only lines that can never count (THREATS.md G52).

Never removed: a line that verifies, or one that another trust root or policy could accept
(unknown signer, another instance's chain, an unknown predicate type). Removed: junk, a
statement about another commit, a signature that does not match its own certificate.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

from provenance.app.options import VerifyOptions
from provenance.app.prune import prune
from provenance.devinstance import DevInstance
from provenance.gitio import Git
from provenance.store import MAX_LINE_BYTES, NotesStore
from tests.verify._support import (
    Json,
    Lab,
    assert_passed,
    encode,
    mutated,
    network_restored,
    sign_line,
    statement_bytes,
)

NOTES_REF = "refs/notes/provenance"


def _options(lab: Lab) -> VerifyOptions:
    return VerifyOptions(trusted_root=lab.inst.trusted_root_path, offline=True)


def _prune(lab: Lab, *, dry_run: bool = False) -> dict[str, int]:
    with network_restored():
        result = prune(lab.golden.repo.path, lab.golden.commit, _options(lab), dry_run=dry_run)
    (entry,) = result.commits
    assert result.written is (not dry_run and bool(entry.removed))
    return entry.removed


def _forged_payload(lab: Lab) -> bytes:
    """The genuine bundle carrying an edited statement: its signature no longer matches."""
    statement = lab.statement
    statement["predicate"]["prompter"] = "mallory@example.com"

    def edit(doc: Json) -> None:
        doc["dsseEnvelope"]["payload"] = base64.b64encode(statement_bytes(statement)).decode()

    return mutated(lab.line, edit)


def _snake_case(doc: Json) -> None:
    doc["verification_material"] = doc.pop("verificationMaterial")


def test_prune_removes_only_what_can_never_count(lab: Lab, dev_v2: DevInstance) -> None:
    """THREATS.md G52: the rule for deleting is "no root, policy or approval could help"."""
    other_commit = lab.statement
    other_commit["subject"][0]["digest"]["sha256"] = "0" * 64
    keep = [
        lab.line,
        sign_line(lab.inst, statement_bytes(lab.statement), "mallory@example.com"),
        sign_line(lab.inst, lab.restated(lambda st: st.__setitem__("predicateType", "x:y"))),
        sign_line(dev_v2, statement_bytes(lab.statement)),  # another instance's chain
    ]
    remove = [
        b"not json",
        encode({"_type": "https://in-toto.io/Statement/v1"}),
        mutated(lab.line, _snake_case),
        sign_line(lab.inst, statement_bytes(other_commit)),
        _forged_payload(lab),
    ]  # fmt: skip
    lab.golden.replace_notes([*remove[:2], *keep, *remove[2:]], lab.golden.commit)
    before = lab.golden.repo.git("rev-parse", NOTES_REF)

    planned = _prune(lab, dry_run=True)
    assert lab.golden.repo.git("rev-parse", NOTES_REF) == before  # a dry run writes nothing
    assert planned == {
        "bundle_noncanonical": 1, "malformed": 1, "signature_invalid": 1, "subject_mismatch": 1,
        "unknown_format": 1,
    }  # fmt: skip

    assert _prune(lab) == planned
    assert sorted(lab.golden.notes(lab.golden.commit)) == sorted(keep)
    parent = lab.golden.repo.git("rev-parse", f"{NOTES_REF}^")
    assert parent == before  # a plain fast-forward: nothing else of the history changes
    with network_restored():
        assert_passed(lab.verify())
    assert _prune(lab) == {}  # idempotent


def test_lines_too_long_to_read_are_removed_by_streaming(lab: Lab) -> None:
    """THREATS.md G52: a note bigger than memory should hold is pruned line by line."""
    huge = b"x" * (MAX_LINE_BYTES + 10)
    blob = subprocess.run(
        ["git", "-C", str(lab.golden.repo.path), "hash-object", "-w", "--stdin"],
        input=huge + b"\n" + lab.line + b"\n", capture_output=True, check=True,
    ).stdout.decode().strip()  # fmt: skip
    lab.golden.repo.git("notes", f"--ref={NOTES_REF}", "add", "-f", "-C", blob, lab.golden.commit)
    assert _prune(lab) == {"too_large": 1}
    assert lab.golden.notes(lab.golden.commit) == [lab.line]


def test_a_note_left_with_nothing_is_removed(lab: Lab) -> None:
    lab.golden.replace_notes([b"junk"], lab.golden.commit)
    assert _prune(lab) == {"malformed": 1}
    notes = lab.golden.repo.git("notes", f"--ref={NOTES_REF}", "list")
    assert lab.golden.commit not in notes


def test_the_swap_fails_when_the_ref_moved(lab: Lab) -> None:
    """Compare-and-swap: a stamp landing meanwhile is never lost; prune decides again."""
    store = NotesStore(Git.discover(lab.golden.repo.path), NOTES_REF)
    old = store.tip()
    assert old is not None
    store.add(lab.golden.commit, [b'{"another":"line"}'])
    assert not store.replace_notes(old, {lab.golden.commit: None})
    assert b'{"another":"line"}' in lab.golden.notes(lab.golden.commit)


def test_cli_dry_run_json(lab: Lab) -> None:
    lab.golden.replace_notes([b"junk", lab.line], lab.golden.commit)
    args = ["prune", "--dry-run", "--format", "json", "--offline", "--trusted-root"]
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE_TRUST_CONFIG"}
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", *args, str(lab.inst.trusted_root_path),
         lab.golden.commit], cwd=lab.golden.repo.path, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert (document["removed"], document["written"]) == (1, False)
    assert document["commits"][0]["removed"] == {"malformed": 1}
