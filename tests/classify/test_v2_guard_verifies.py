"""``@2``'s guard-flow reads a condition that verifies a credential as an access check.

``@2`` takes no bare auth word for a check (decision 0013: ``webAuthnCerts`` is no check), and
so it lost the checks that are only a call: ``if user && user.authenticate(pw)`` (Rails'
``has_secure_password``), ``if not check_password(...)``, ``password_verify``. Replacing the
principal above such a check (``User.find_by`` becoming ``Account.find_by``) then passed the
gate under ``@2`` while ``@1`` flagged it (THREATS.md G45, decision 0025).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.classify import RULESET_V1, Classifier
from provenance.classify._guard import verifying
from tests.classify.test_v2_stages import Lab

V2 = Classifier.build()
V1 = Classifier.build(rulesets=[RULESET_V1])
GUARD = "code.guard-flow"

RUBY = """class Reports
  def open_report(params)
    user = User.find_by(email: params[:email])
    if user && user.authenticate(params[:password])
      render_report(user)
    else
      deny
    end
  end
end
"""

PYTHON = """def open_report(request, name, password):
    account = Account.objects.get(name=name)
    if not check_password(password, account.digest):
        return deny()
    return render_report(account)
"""

PHP = """<?php
function open_report($name, $password) {
    $account = Account::where('name', $name)->first();
    if (!password_verify($password, $account->digest)) {
        return deny();
    }
    return render_report($account);
}
"""

JS = """export async function openReport(name, password) {
  const account = await Account.findOne({ name });
  if (!(await bcrypt.compare(password, account.digest))) {
    return deny();
  }
  return renderReport(account);
}
"""

CASES = [
    ("app/services/reports.rb", RUBY, "User.find_by", "Account.find_by"),
    ("app/reports/views.py", PYTHON, "Account.objects.get", "Account.all_objects.get"),
    ("src/Reports.php", PHP, "Account::where", "LegacyAccount::where"),
    ("src/reports.js", JS, "Account.findOne", "LegacyAccount.findOne"),
]


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


@pytest.mark.parametrize(("path", "source", "old", "new"), CASES)
def test_replacing_who_a_verifying_condition_reads_counts(
    lab: Lab, path: str, source: str, old: str, new: str
) -> None:
    """G45: the principal replaced above a condition that verifies its credential."""
    assert old in source
    assert GUARD in lab.rules({path: source}, {path: source.replace(old, new)})


@pytest.mark.parametrize(("path", "source", "old", "new"), CASES)
def test_without_the_verifying_call_it_is_not_a_check(
    lab: Lab, path: str, source: str, old: str, new: str
) -> None:
    """The same change above a condition that verifies nothing stays unflagged (precision)."""
    plain = (
        source.replace("user.authenticate(params[:password])", "user.visible?")
        .replace("not check_password(password, account.digest)", "not account.visible")
        .replace("!password_verify($password, $account->digest)", "!$account->visible")
        .replace("!(await bcrypt.compare(password, account.digest))", "!account.visible")
    )
    assert plain != source
    assert GUARD not in lab.rules({path: plain}, {path: plain.replace(old, new)})


def test_a_bare_auth_word_in_a_condition_is_still_no_check(lab: Lab) -> None:
    """Decision 0013 stands: ``if webAuthnCerts`` names auth but verifies nothing."""
    source = RUBY.replace("user.authenticate(params[:password])", "user.auth_enabled")
    new = source.replace("User.find_by", "Account.find_by")
    assert GUARD not in lab.rules(
        {"app/services/reports.rb": source}, {"app/services/reports.rb": new}
    )


def test_a_verifying_call_outside_a_condition_is_no_check(lab: Lab) -> None:
    source = RUBY.replace(
        "    if user && user.authenticate(params[:password])\n",
        "    audit(user.authenticate_count)\n    if user.visible?\n",
    )
    new = source.replace("User.find_by", "Account.find_by")
    assert GUARD not in lab.rules(
        {"app/services/reports.rb": source}, {"app/services/reports.rb": new}
    )


def test_v1_is_unchanged_and_already_flags_it(lab: Lab) -> None:
    """``@1`` reads any auth word as a check: it flagged this before and still does."""
    path, source, old, new = CASES[0]
    assert GUARD in lab.rules({path: source}, {path: source.replace(old, new)}, V1)


def test_verifying_keeps_only_condition_auth_words() -> None:
    """The matcher: ``code.authn`` kept on a verifying condition, dropped elsewhere."""

    def base(text: str) -> set[str]:
        return {"code.authn", "code.role-check"} if "auth" in text else {"code.role-check"}

    decided = verifying(base)
    assert decided("if user.authenticate(pw)\n") == {"code.authn", "code.role-check"}
    assert decided("x = auth_header\nif ok\n") == {"code.role-check"}
    assert decided("log(user.authenticate(pw))\n") == {"code.role-check"}
    assert verifying(base) is decided  # one object per matcher: its answers are remembered


def test_a_local_renamed_beside_the_replaced_principal_still_counts(lab: Lab) -> None:
    """Decision 0022 reads the renamed check line as neutral; the hunk still holds the real
    change above a verifying condition, so guard-flow fires (the residual risk 0022 named)."""
    path, source, old, new = CASES[0]
    changed = source.replace(old, new).replace("user", "member")
    assert GUARD in lab.rules({path: source}, {path: changed})
    renamed_only = source.replace("user", "member")
    assert GUARD not in lab.rules({path: source}, {path: renamed_only})
