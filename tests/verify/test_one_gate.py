"""One gate: `verify COMMIT`, `verify BASE..HEAD`, `log`, `query` and the index decide alike.

A named commit is a range of one (classified against its parents by the same walk), so a
commit that is not identity-related needs nothing in either form, even when the policy asks
for approvals; attestations present on it are still verified and shown for ``verify
COMMIT``. Issue 17: the single-commit form said ``approval_missing`` where the range said
``not-required``, and ``log``/``query`` followed the single-commit verdict.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.app.audit import build_index, log, query
from provenance.app.gate import verify, verify_range
from provenance.app.options import VerifyOptions
from provenance.audit import Query
from provenance.devinstance import DevInstance
from provenance.policy import render_template
from provenance.reasons import Reason
from tests.conftest import AGENT_ID, Golden
from tests.helpers import SSO_CALLBACK, GitRepo


@pytest.fixture(scope="module")
def approvals_lab(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Golden:
    """Policy asks one approval; a stamped docs commit, a stamped SSO commit, a bare docs one."""
    repo = GitRepo.init(tmp_path_factory.mktemp("one-gate") / "repo")
    policy = render_template(dev.default_issuer, AGENT_ID).replace("required = 0", "required = 1")
    policy += f'\n[[approvers]]\nissuer = "{dev.default_issuer}"\nidentity = "bob@example.com"\n'
    policy += 'person = "bob"\n'
    repo.commit("policy", {".provenance/policy.toml": policy})
    docs = repo.commit("docs", {"docs/guide.md": "how to\n"})
    lab = Golden(repo=repo, inst=dev, commit=docs, stamped=None)  # type: ignore[arg-type]
    lab.stamped = lab.stamp(docs)
    lab.stamp(repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK}))
    repo.commit("more docs", {"docs/more.md": "more\n"})  # never stamped
    return lab


def _options(lab: Golden) -> VerifyOptions:
    return VerifyOptions(trusted_root=lab.inst.trusted_root_path, offline=True)


def _commits(lab: Golden) -> list[str]:
    return lab.repo.git("rev-list", "--reverse", "HEAD").split()


def test_a_commit_and_a_range_decide_alike(approvals_lab: Golden) -> None:
    """THREATS.md F35: the same commits get the same verdicts in both forms (issue 17)."""
    lab = approvals_lab
    base, docs, sso, bare = _commits(lab)
    ranged = verify_range(lab.repo.path, f"{base}..HEAD", _options(lab))
    single = verify(lab.repo.path, [docs, sso, bare], _options(lab))
    assert [(c.commit, c.status, c.reasons) for c in single.commits] == [
        (c.commit, c.status, c.reasons) for c in ranged.commits
    ]
    assert [c.status for c in single.commits] == ["not-required", "refused", "not-required"]
    assert single.commits[1].reasons == (Reason.APPROVAL_MISSING,)
    assert (single.policy_from, ranged.policy_from) == ("HEAD", "BASE")


def test_attestations_on_a_commit_not_required_are_still_verified_and_shown(
    approvals_lab: Golden,
) -> None:
    """``verify COMMIT`` shows what is stored; the range form verifies only what it needs."""
    lab = approvals_lab
    base, docs, _sso, bare = _commits(lab)
    single = verify(lab.repo.path, [docs, bare], _options(lab))
    shown, unattested = single.commits
    assert [(a.kind, a.ok) for a in shown.attestations] == [("change", True)]
    assert unattested.attestations == () and unattested.reasons == ()
    assert single  # nothing was required, nothing refused
    ranged = verify_range(lab.repo.path, f"{base}..HEAD", _options(lab))
    assert ranged.commits[0].attestations == ()


def test_log_and_query_decide_as_the_gate_does(approvals_lab: Golden, tmp_path: Path) -> None:
    """The index's standing of each commit is the gate's (not-required, or approval_missing)."""
    lab = approvals_lab
    _base, docs, sso, bare = _commits(lab)
    db = tmp_path / "index.sqlite"
    build_index(lab.repo.path, _options(lab), db=db)
    status = {e.commit: e.status for e in log(lab.repo.path, None, db=db).items}
    assert status[docs] == "not-required"
    assert status[sso] == Reason.APPROVAL_MISSING
    assert status[bare] == "unattested"
    hits = {h.commit: h for h in query(lab.repo.path, Query(), db=db).items}
    assert (hits[docs].status, hits[docs].reasons) == ("not-required", ())
    assert (hits[sso].status, hits[sso].reasons) == ("refused", (Reason.APPROVAL_MISSING,))
