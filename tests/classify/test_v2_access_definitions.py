"""``code.access-definition``: in a policy file, a method added, removed or renamed counts.

Laravel and Pundit call a policy's methods by ability name, and a Laravel policy's ``before``
returning ``true`` grants every ability: ``public function before($user) { return true; }``
names nothing identity-related, and passed ``@2`` (decision 0025).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.classify import RULESET_V1, Classifier
from tests.classify.test_v2_stages import Lab

V1 = Classifier.build(rulesets=[RULESET_V1])
RULE = "code.access-definition"

PHP_POLICY = """<?php

namespace App\\Policies;

class PostPolicy
{
    public function update($user, $post)
    {
        return $user->id === $post->user_id;
    }
}
"""

RUBY_POLICY = """class PostPolicy < ApplicationPolicy
  def update?
    record.user == user
  end
end
"""

BEFORE = """    public function before($user, $ability)
    {
        return true;
    }

"""


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


def test_a_before_hook_added_to_a_laravel_policy_counts(lab: Lab) -> None:
    path = "app/Policies/PostPolicy.php"
    after = PHP_POLICY.replace(
        "{\n    public function update", "{\n" + BEFORE + "    public function update"
    )
    assert after != PHP_POLICY
    assert RULE in lab.rules({path: PHP_POLICY}, {path: after})


def test_a_policy_method_renamed_counts(lab: Lab) -> None:
    path = "app/Policies/PostPolicy.php"
    after = PHP_POLICY.replace("function update", "function modify")
    rules = lab.rules({path: PHP_POLICY}, {path: after})
    assert RULE in rules


def test_a_pundit_policy_method_added_counts(lab: Lab) -> None:
    path = "app/policies/post_policy.rb"
    after = RUBY_POLICY.replace("  def update?", "  def destroy?\n    true\n  end\n\n  def update?")
    assert RULE in lab.rules({path: RUBY_POLICY}, {path: after})


def test_a_policy_reformatted_or_commented_does_not(lab: Lab) -> None:
    path = "app/Policies/PostPolicy.php"
    after = PHP_POLICY.replace(
        "    public function update($user, $post)",
        "    // who may edit\n    public function update( $user,  $post )",
    )
    assert lab.rules({path: PHP_POLICY}, {path: after}) == set()


def test_a_middleware_method_renamed_is_not_this_rule(lab: Lab) -> None:
    """A middleware's functions are wired where it is used (``js.middleware``, routes): a
    helper defined in a middleware directory is no access rule by itself."""
    path = "app/Http/Middleware/TrimStrings.php"
    before = PHP_POLICY.replace("App\\Policies", "App\\Http\\Middleware").replace(
        "PostPolicy", "TrimStrings"
    )
    after = before.replace("function update", "function modify")
    assert RULE not in lab.rules({path: before}, {path: after})


def test_v1_has_no_such_rule(lab: Lab) -> None:
    path = "app/Policies/PostPolicy.php"
    after = PHP_POLICY.replace("function update", "function modify")
    assert RULE not in lab.rules({path: PHP_POLICY}, {path: after}, V1)
