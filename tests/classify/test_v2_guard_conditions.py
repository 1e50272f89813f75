"""``@2``'s guard-flow does not read optional chaining (``user?.id``) as a condition.

``@1`` takes any ``?`` for a condition token, so ``userId: context.user?.id`` in a logger's
arguments, or ``userId={user?.id}`` handed to a component, made the whole function a decision:
a retry counter or a callback edited above it was flagged (outline 3afb0517bfa5, 6190684d594f,
69fdebd573ca, 9deed62d1476; decision 0031). A ternary, ``??``, ``?:`` and Ruby's predicates
stay conditions, and a real check below the edit still fires (THREATS.md G45).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.classify import RULESET_V1, Classifier
from provenance.classify._v2_conditions import CONDITION
from tests.classify.test_v2_stages import Lab

V2 = Classifier.build()
V1 = Classifier.build(rulesets=[RULESET_V1])
GUARD = "code.guard-flow"

PERSIST = """export class PersistenceExtension {
  async onStoreDocument({ documentName, context }) {
    let attempts = 0;
    while (attempts < 3) {
      attempts += 1;
      await this.save(documentName);
    }
    Logger.info("multiplayer", "Persisted document", {
      documentName,
      userId: context.user?.id,
    });
  }
}
"""
#: The retry loop gains a way round its bound: control flow above the optional chain.
PERSIST_EDIT = PERSIST.replace("(attempts < 3)", "(attempts < 3 || this.force)")


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


def test_optional_chaining_below_is_no_check(lab: Lab) -> None:
    """outline 3afb0517bfa5: the principal only written to a log line is no decision."""
    path = "server/collaboration/PersistenceExtension.ts"
    assert GUARD not in lab.edited(path, PERSIST, PERSIST_EDIT)
    assert GUARD in lab.edited(path, PERSIST, PERSIST_EDIT, V1)  # @1 is pinned as it was


@pytest.mark.parametrize(
    "check",
    [
        "    const owner = context.user?.id === doc.ownerId ? doc : null;\n",  # a ternary
        "    const viewer = context.user?.id ?? session.anonymous;\n",  # ``??`` on a session
        "    return context.user?.isAdmin && doc;\n",  # a short circuit
    ],
)
def test_a_condition_with_optional_chaining_still_checks(lab: Lab, check: str) -> None:
    """THREATS.md G45: what is a condition without the ``?.`` stays one with it."""
    path = "server/collaboration/PersistenceExtension.ts"
    before = PERSIST.replace("    Logger.info(", check + "    Logger.info(")
    after = PERSIST_EDIT.replace("    Logger.info(", check + "    Logger.info(")
    assert GUARD in lab.edited(path, before, after)


RUBY = """class DistributionsController < ApplicationController
  def edit
    @distribution = Distribution.find(params[:id])
    if current_user.has_cached_role?(Role::ORG_ADMIN, current_organization)
      render :edit
    end
  end
end
"""


def test_a_ruby_predicate_stays_a_condition(lab: Lab) -> None:
    """human-essentials 30a52c2c6d1e: the role predicate below an early exit is a check."""
    path = "app/controllers/distributions_controller.rb"
    early = RUBY.replace(
        "    if current_user", "    return render(:edit) if params[:preview]\n    if current_user"
    )
    assert GUARD in lab.edited(path, RUBY, early)


@pytest.mark.parametrize(
    ("line", "condition"),
    [
        ("userId: context.user?.id,", False),
        ("userId={user?.id}", False),
        ("user?.[key]", False),
        ("x ? a : b", True),
        ("x?.5:1", True),  # a ternary's decimal
        ("$user ?: $guest", True),
        ("a ?? b", True),
        ("current_user.admin?", True),
        ("current_user.has_role?(:admin)", True),
    ],
)
def test_the_condition_tokens(line: str, condition: bool) -> None:
    assert (CONDITION.search(line) is not None) is condition
