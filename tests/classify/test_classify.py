"""Classifier API, THREATS.md section E evasions, exclusions, policy additions, digest, targets."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest

from provenance.classify import (
    BUILTIN_RULESET_DIGEST,
    BUILTIN_RULESET_ID,
    CLASSIFIER_VERSION,
    RULESET_V1,
    RULESET_V2,
    Classifier,
    RuleSpec,
    ruleset_digest,
)
from provenance.models import FileChange
from tests.classify.harness import classifier_eval

CLF = Classifier.build()
FIXTURES = Path(__file__).parent / "fixtures_classify"


def fc(
    path: str,
    *added: str,
    old_path: str | None = None,
    status: str = "M",
    modes: tuple[str, str] = ("100644", "100644"),
    targets: tuple[str, ...] = (),
    binary: bool = False,
) -> FileChange:
    """A FileChange with defaults for everything not under test."""
    return FileChange(
        path,
        path if old_path is None else old_path,
        status,
        modes[0],
        modes[1],
        tuple(added),
        (),
        binary,
        targets,
    )


# --- API -------------------------------------------------------------------------------


def test_public_constants() -> None:
    assert BUILTIN_RULESET_ID == "builtin:identity@2"
    assert BUILTIN_RULESET_DIGEST.startswith("sha256:") and len(BUILTIN_RULESET_DIGEST) == 71
    assert CLASSIFIER_VERSION


def test_classify_returns_sorted_rule_ids() -> None:
    fired = CLF.classify(fc("src/auth/session.py", "jwt.decode(t, key)", "@login_required"))
    assert fired == tuple(sorted(fired)) and {"path.authn", "code.jwt"} <= set(fired)


def test_not_identity_related_is_empty() -> None:
    assert CLF.classify(fc("src/components/Button.tsx", "export const B = () => <b />;")) == ()


def test_unknown_ruleset_is_value_error() -> None:
    with pytest.raises(ValueError, match="unknown ruleset"):
        Classifier.build(rulesets=["builtin:nope"])


def test_versioned_ruleset_name_is_accepted() -> None:
    assert Classifier.build(rulesets=[BUILTIN_RULESET_ID]).ruleset_digest == BUILTIN_RULESET_DIGEST


def test_rules_describe_every_reportable_id() -> None:
    clf = Classifier.build(paths=["billing/**"], content=[RuleSpec("x", "x", "an x")])
    assert clf.rules["policy:content:x"] == "an x"
    assert "policy:path:billing/**" in clf.rules and "code.jwt" in clf.rules


# --- THREATS.md E: evasions within one FileChange ---------------------------------------


@pytest.mark.parametrize(
    ("path", "old_path", "status"),
    [
        ("lib/misc.py", "lib/auth/session.py", "R"),  # renamed out of an identity path
        ("lib/auth/session.py", "lib/misc.py", "R"),  # renamed into one
        ("lib/misc.py", "lib/auth/session.py", "C"),  # copied out of one
    ],
)
def test_both_sides_of_a_rename_or_copy_count(path: str, old_path: str, status: str) -> None:
    assert "path.authn" in CLF.classify(fc(path, "x = 1", old_path=old_path, status=status))


@pytest.mark.parametrize(
    "path",
    [
        unicodedata.normalize("NFD", "src/àuth/views.py"),  # combining mark inside "auth"
        "src/\u0430uth/views.py",  # Cyrillic a
        "app/l\u03bfgin.py",  # Greek omicron
        "app/\uff41\uff55\uff54\uff48/x.py",  # fullwidth letters (NFKC)
        "app/lo\u200bgin.py",  # zero-width space
        "app/au\u200dth/x.py",  # zero-width joiner
        "app/\u202eauth/x.py",  # bidi override
        "app/auth\nnotes/x.py",  # newline in a name
        "app/au\tth/x.py",  # tab in a name
        "SRC/AUTH/Login.PY",  # case
        "src/ui/../auth/./login.ts",  # dot segments
        "src//auth//login.ts",  # empty segments
        "../../auth/x.py",  # above the root
        "src\\auth\\x.py",  # backslashes
    ],
)
def test_path_obfuscation_still_matches(path: str) -> None:
    fired = CLF.classify(fc(path, "x = 1"))
    assert {"path.authn"} <= set(fired), path


def test_reported_path_is_not_rewritten() -> None:
    path = "app/lo\u200bgin.py"
    change = fc(path)
    CLF.classify(change)
    assert change.path == path


def test_symlink_swapped_into_identity_path() -> None:
    change = fc("config/auth.py", modes=("100644", "120000"), targets=("../settings.py",))
    assert {"git.symlink", "path.authn"} <= set(CLF.classify(change))


@pytest.mark.parametrize("target", ["../auth/settings.py", "../../../../auth", "/etc/passwd"])
def test_symlink_elsewhere_pointing_into_identity_path(target: str) -> None:
    change = fc("src/utils/config.py", modes=("120000", "120000"), targets=(target,))
    assert CLF.classify(change) == ("git.symlink",)


def test_symlink_target_read_from_blob_when_not_given() -> None:
    change = fc("docs/key", "../secrets/prod.pem", modes=("000000", "120000"), status="A")
    assert "git.symlink" in CLF.classify(change)


def test_unrelated_symlink_does_not_fire() -> None:
    assert CLF.classify(fc("docs/latest", modes=("120000", "120000"), targets=("v2",))) == ()


def test_gitlink_under_identity_path() -> None:
    change = fc("vendor/auth-sdk", "Subproject commit 9f2c", modes=("160000", "160000"))
    assert {"git.gitlink", "path.authn"} <= set(CLF.classify(change))


@pytest.mark.parametrize(
    ("modes", "status"),
    [
        (("160000", "160000"), "M"),  # bump
        (("000000", "160000"), "A"),  # added
        (("160000", "000000"), "D"),  # removed
        (("100644", "160000"), "T"),  # a file replaced by a submodule
        (("160000", "100644"), "T"),  # a submodule replaced by a file
    ],
)
def test_any_gitlink_change_needs_evidence(modes: tuple[str, str], status: str) -> None:
    """THREATS.md G47: one gitlink line can swap all vendored code, whatever its path."""
    change = fc("vendor/charts", "Subproject commit 9f2c", modes=modes, status=status)
    assert CLF.classify(change) == ("git.gitlink",)


def test_gitlink_excluded_explicitly_is_not_identity_related() -> None:
    """THREATS.md G47: only an explicit policy exclusion switches the gitlink rule off."""
    clf = Classifier.build(exclude=["vendor/charts"])
    assert clf.classify(fc("vendor/charts", modes=("160000", "160000"))) == ()
    assert clf.classify(fc("vendor/other", modes=("160000", "160000"))) == ("git.gitlink",)


def test_gitmodules_change() -> None:
    assert "git.gitmodules" in CLF.classify(fc(".gitmodules", "\turl = https://evil/x.git"))


def test_mode_only_change_on_identity_path() -> None:
    change = fc("scripts/auth/rotate_keys.sh", modes=("100644", "100755"))
    assert "path.authn" in CLF.classify(change)
    assert CLF.classify(fc("scripts/build.sh", modes=("100644", "100755"))) == ()


def test_gitattributes_is_always_identity_related() -> None:
    assert CLF.classify(fc(".gitattributes", "*.psd filter=lfs")) == ("git.gitattributes",)
    assert "git.gitattributes" in CLF.classify(fc("src/.gitattributes", binary=True))


def test_binary_identity_file_is_classified_by_path() -> None:
    assert "path.key-material" in CLF.classify(fc("certs/client.p12", binary=True))


def test_policy_directory_is_always_identity_related() -> None:
    assert CLF.classify(fc(".provenance/policy.toml", "min_approvals = 0")) == ("meta.provenance",)


# --- exclusions ------------------------------------------------------------------------


def test_exclude_suppresses_path_and_content_rules() -> None:
    clf = Classifier.build(exclude=["vendor/**"])
    assert clf.classify(fc("vendor/auth/jwt.py", "jwt.decode(t, k)")) == ()


@pytest.mark.parametrize(
    "path",
    [
        "src/main/java/com/acme/Docs/AdminAccess.java",  # the red-team's Java package
        "src/DOCS/auth.py",
        "src/docs\u0301/auth.py",  # a combining mark: another name on disk
        "src/\uff44\uff4f\uff43\uff53/auth.py",  # fullwidth letters
    ],
)
def test_exclude_matches_the_path_exactly_as_git_stores_it(path: str) -> None:
    """THREATS.md E31 (variant): an exclusion trusts a path; a folded match trusted others."""
    clf = Classifier.build(exclude=["**/docs/**"])
    assert clf.classify(fc("src/docs/auth.py", "x = 1")) == ()
    assert clf.classify(fc(path, "public static boolean isAdmin() { return true; }"))


def test_a_change_is_excluded_only_when_every_name_of_it_is() -> None:
    """THREATS.md E31 (variant): a rename or alias outside the exclusion is judged."""
    clf = Classifier.build(exclude=["docs/**"])
    renamed = fc("app/auth/x.py", "x = 1", old_path="docs/x.py", status="R")
    assert "path.authn" in clf.classify(renamed)
    aliased = replace(fc("docs/x.py", "x = 1"), aliases=("app/auth/x.py",))
    assert "path.authn" in clf.classify(aliased)


def test_exclude_cannot_hide_policy_or_gitattributes() -> None:
    clf = Classifier.build(exclude=["**", ".provenance/**", "*.gitattributes"])
    assert clf.classify(fc(".provenance/policy.toml")) == ("meta.provenance",)
    assert clf.classify(fc("vendor/.gitattributes", "* -diff")) == ("git.gitattributes",)


def test_exclude_applies_per_side_of_a_rename() -> None:
    clf = Classifier.build(exclude=["vendor/**"])
    change = fc("src/auth/x.py", "x = 1", old_path="vendor/x.py", status="R")
    assert "path.authn" in clf.classify(change)


def test_excluded_symlink_and_gitlink() -> None:
    clf = Classifier.build(exclude=["third_party/**"])
    link = fc("third_party/x", modes=("120000", "120000"), targets=("../src/auth/k.pem",))
    assert clf.classify(link) == ()


# --- policy additions ------------------------------------------------------------------


def test_policy_path_glob_fires_with_its_own_id() -> None:
    clf = Classifier.build(paths=["billing/**", "*.ledger"])
    assert clf.classify(fc("Billing/Plans.py", "x = 1")) == ("policy:path:billing/**",)
    assert clf.classify(fc("a/b/prod.ledger")) == ("policy:path:*.ledger",)


def test_policy_content_rule_fires_with_its_own_id() -> None:
    clf = Classifier.build(content=[RuleSpec("stripe", r"stripe\.Charge\.create", "charges")])
    fired = clf.classify(fc("shop/pay.py", "stripe.Charge.create(amount=1)"))
    assert fired == ("policy:content:stripe",)


def test_policy_only_classifier_keeps_core_rules() -> None:
    clf = Classifier.build(rulesets=[], paths=["billing/**"])
    assert clf.classify(fc("src/auth/x.py", "jwt.decode(t)")) == ()
    assert clf.classify(fc(".provenance/policy.toml")) == ("meta.provenance",)
    assert clf.classify(fc("billing/x.py")) == ("policy:path:billing/**",)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content": [RuleSpec("bad", "(unclosed")]},
        {"content": [RuleSpec("a", "x"), RuleSpec("a", "y")]},
        {"content": [RuleSpec("", "x")]},
        {"paths": ["!negated/**"]},
        {"paths": [""]},
        {"exclude": ["# comment"]},
    ],
)
def test_bad_policy_input_is_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Classifier.build(**kwargs)  # type: ignore[arg-type]


# --- digest ----------------------------------------------------------------------------


def test_builtin_digests_are_pinned() -> None:
    # @1 is frozen. Changing a rule, glob, file kind or stage of @2 changes its digest: add a
    # new "@N" for it rather than editing a released version. Security fixes are the one
    # exception (decision 0014): red-team 07 (blob.packaged-code, packaged extensions) and 08
    # (kinds text and decorative) changed @1's tables on purpose.
    assert ruleset_digest(RULESET_V1) == (
        "sha256:247214e3cd13f0f0dc03bc43761c419d6aa60822f0c8b0f3d19dab4426414e16"
    )
    assert BUILTIN_RULESET_DIGEST == ruleset_digest(RULESET_V2) != ruleset_digest(RULESET_V1)


@pytest.mark.parametrize(
    ("names", "resolved"),
    [
        (["builtin:identity"], ("builtin:identity@2",)),
        (["builtin:identity@1"], ("builtin:identity@1",)),
        (["builtin:identity@2", "builtin:identity"], ("builtin:identity@2",)),
        ([], ()),
    ],
)
def test_unversioned_name_means_the_newest(names: list[str], resolved: tuple[str, ...]) -> None:
    assert (
        Classifier.build(rulesets=names).ruleset_digest
        == Classifier.build(rulesets=list(resolved)).ruleset_digest
    )


def test_two_versions_of_the_ruleset_are_refused() -> None:
    with pytest.raises(ValueError, match="one version"):
        Classifier.build(rulesets=["builtin:identity@1", "builtin:identity"])


def test_digest_is_stable_and_covers_policy_additions() -> None:
    assert Classifier.build().ruleset_digest == BUILTIN_RULESET_DIGEST
    a = Classifier.build(paths=["a/**", "b/**"], exclude=["x/**", "y/**"])
    b = Classifier.build(paths=["b/**", "a/**"], exclude=["y/**", "x/**"])
    assert a.ruleset_digest == b.ruleset_digest != BUILTIN_RULESET_DIGEST
    c = Classifier.build(paths=["a/**", "b/**"], exclude=["x/**"])
    d = Classifier.build(content=[RuleSpec("r", "x")])
    e = Classifier.build(content=[RuleSpec("r", "y")])
    assert len({a.ruleset_digest, c.ruleset_digest, d.ruleset_digest, e.ruleset_digest}) == 4


# --- measured against the labeled fixtures ---------------------------------------------


@pytest.mark.parametrize("split", ["tune", "heldout"])
def test_fixture_targets(split: str) -> None:
    cases = [c for c in classifier_eval.load_cases(FIXTURES) if c.split == split]
    assert len(cases) >= 100
    s = classifier_eval.score(classifier_eval.run_cases(CLF, cases))
    assert s.recall >= 0.95, s
    assert s.precision >= 0.80, s


def test_fixtures_are_large_and_balanced() -> None:
    cases = classifier_eval.load_cases(FIXTURES)
    positives = sum(c.label for c in cases)
    assert len(cases) >= 150
    assert 0.30 <= positives / len(cases) <= 0.50
    assert sum(c.split == "heldout" for c in cases) >= 0.25 * len(cases)
