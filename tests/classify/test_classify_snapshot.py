"""Pins the rule ids every fixture case gets under ``builtin:identity@1``, which is frozen.

Policies that pin ``@1`` must keep its rules, digest and verdicts byte for byte
(``docs/decisions/0013-identity-ruleset-2.md``); ``test_classify_snapshot_v2.py`` is the
sibling for ``@2``.

``BUILTIN`` was recorded with the classifier as it was before its matching was optimised
(``docs/decisions/0003-classifier.md``); cases not listed fire nothing. ``POLICY`` lists the cases
whose ids differ under ``POLICY_CLF``, a policy with path globs, content rules and exclusions.
Regenerate only for an intended change of the rules, and bump the ruleset id then.
"""

from __future__ import annotations

from pathlib import Path

from provenance.classify import RULESET_V1, Classifier, RuleSpec, ruleset_digest
from tests.classify.harness import classifier_eval

FIXTURES = Path(__file__).parent / "fixtures_classify"
CASES = {case.id: case for case in classifier_eval.load_cases(FIXTURES)}

CLF = Classifier.build(rulesets=[RULESET_V1])
POLICY_CLF = Classifier.build(
    rulesets=[RULESET_V1],
    paths=["billing*/**", "*.secret", "src/payments", "**/handlers/*.go"],
    content=[RuleSpec("stripe", r"(?i)stripe"), RuleSpec("tok", r"token\b")],
    exclude=["tests/**", "*.md", "vendor/", "**/__tests__/**"],
)

BUILTIN_DIGEST = "sha256:247214e3cd13f0f0dc03bc43761c419d6aa60822f0c8b0f3d19dab4426414e16"
POLICY_DIGEST = "sha256:ecc13ed9ccac52431196955c1961281daab084d581fc9cef45fd7fe02b3ea88a"

BUILTIN: dict[str, tuple[str, ...]] = {
    "cedar-policy": ("code.current-user", "path.hint.role", "path.policy-as-code"),
    "cfn-iam-role": ("config.identity-key", "iac.iam-resource", "iac.policy-statement"),
    "cfn-policy-statement-widened": ("iac.policy-statement",),
    "codeowners": ("git.codeowners",),
    "compose-db-password": ("config.identity-key",),
    "dotdot-path": ("path.authn",),
    "env-example-oauth": ("code.secrets", "config.identity-key"),
    "gha-oidc-aws": ("ci.credentials", "code.secrets", "config.identity-key", "iac.iam-resource"),
    "gha-permissions-id-token": ("ci.permissions", "code.token-kinds", "config.identity-key"),
    "gha-pull-request-target": ("ci.permissions",),
    "gha-secrets-env": (
        "ci.credentials",
        "code.api-keys",
        "code.secrets",
        "config.identity-key",
        "config.secret-reference",
    ),
    "gitattributes-diff": ("code.authn", "git.gitattributes"),
    "gitattributes-lfs": ("git.gitattributes",),
    "gitlab-ci-deploy-token": (
        "ci.credentials",
        "code.password-handling",
        "config.secret-reference",
    ),
    "gitlink-chart-lib": ("git.gitlink",),  # any gitlink needs evidence (THREATS.md G47)
    "gitlink-under-auth": ("git.gitlink", "path.authn"),
    "gitmodules-url": ("git.gitmodules",),
    "go-api-key-compare": ("code.signing", "go.auth-calls"),
    "go-auth-middleware": (
        "code.current-user",
        "code.jwt",
        "code.token-word",
        "go.auth-calls",
        "path.authn",
        "path.hint.middleware",
    ),
    "go-authorization-header-parse": ("code.authn", "code.token-kinds"),
    "go-bcrypt-cost": (
        "code.password-hashing",
        "code.password-word",
        "go.auth-calls",
        "path.hint.user",
    ),
    "go-casbin-policy-csv": ("path.authz",),
    "go-claims-role-billing": (
        "code.current-user",
        "code.http-auth-status",
        "code.role-check",
        "code.role-word",
        "go.auth-calls",
    ),
    "go-cookie-flags": ("code.cookie-flags",),
    "go-echo-jwt": ("code.secrets", "go.auth-calls"),
    "go-gcp-credentials": ("code.authn", "code.secrets", "go.auth-calls"),
    "go-gin-admin-group": ("code.admin-word", "code.role-check", "code.role-word"),
    "go-grpc-permission-denied": ("code.authz-check", "code.http-auth-status", "go.auth-calls"),
    "go-metrics-basic-auth-removed": ("code.authn",),
    "go-mod-golang-jwt": ("deps.auth-library",),
    "go-mod-x-oauth2": ("deps.auth-library",),
    "go-oidc-verifier": ("code.sso", "go.auth-calls", "path.sso"),
    "go-owner-check-helpers": ("code.ownership",),
    "go-scim-handler": ("path.sso",),
    "go-session-store": (
        "code.cookie-word",
        "code.secrets",
        "code.session-word",
        "go.auth-calls",
        "path.hint.session",
    ),
    "go-test-auth-middleware": (
        "code.authn",
        "code.http-auth-status",
        "go.auth-calls",
        "path.authn",
        "path.hint.middleware",
    ),
    "go-token-ttl-config": ("code.token-kinds",),
    "homoglyph-path": ("path.authn",),
    "java-gradle-jjwt": ("code.jwt", "deps.auth-library"),
    "java-pom-oauth2": ("code.authn", "deps.auth-library"),
    "java-preauthorize": (
        "code.admin-word",
        "code.auth-decorator",
        "code.authn",
        "code.authz-check",
        "code.role-check",
        "code.role-word",
    ),
    "java-security-config": ("code.authz-check", "path.security"),
    "java-spring-oauth-client-config": (
        "code.secrets",
        "config.identity-key",
        "config.secret-reference",
    ),
    "java-user-details": (
        "code.account-state",
        "code.password-handling",
        "code.password-word",
        "path.hint.user",
    ),
    "jenkins-credentials": (
        "ci.credentials",
        "code.secret-word",
        "code.token-kinds",
        "code.token-word",
    ),
    "js-csrf-removed": ("code.csrf",),
    "js-express-middleware-order": ("code.authn", "js.auth-calls"),
    "js-oauth-state-removed": ("code.authn", "code.http-auth-status-code"),
    "js-package-jsonwebtoken": ("code.jwt", "deps.auth-library"),
    "js-package-next-auth": ("code.authn", "config.identity-key", "deps.auth-library"),
    "js-passport-config": ("code.authn", "code.secrets", "js.auth-calls", "path.authn"),
    "k8s-rbac-binding": (
        "code.authn",
        "code.authz-check",
        "code.role-check",
        "config.identity-key",
        "k8s.rbac",
        "path.authz",
    ),
    "k8s-role-verbs": ("k8s.rbac", "path.roles"),
    "k8s-secret-key-ref": (
        "code.password-handling",
        "code.secrets",
        "config.identity-key",
        "k8s.rbac",
    ),
    "k8s-service-account-name": ("code.api-keys", "config.identity-key", "k8s.rbac"),
    "mode-only-auth-script": ("path.authn",),
    "mu-py-users-admin-columns": ("code.account-state", "path.hint.admin", "path.hint.user"),
    "nginx-basic-auth": ("code.authn", "code.secrets"),
    "npmrc-token": (
        "code.authn",
        "code.token-kinds",
        "config.secret-reference",
        "path.key-material",
    ),
    "openapi-security-scheme": ("code.authn", "code.token-kinds", "config.identity-key"),
    "pem-private-key": ("code.secrets", "path.key-material", "secret.material"),
    "php-laravel-gate": ("path.authn", "php.authz"),
    "prisma-role-enum": ("code.admin-word", "code.role-word"),
    "provenance-policy": ("meta.provenance",),
    "py-api-key-hashing": ("code.key-hash",),
    "py-auth-backends": ("code.authn", "python.auth-settings"),
    "py-authz-check-in-helpers": ("code.authz-check", "code.http-auth-status"),
    "py-csrf-exempt-webhook": ("code.auth-decorator", "code.csrf"),
    "py-django-middleware-order": ("code.authn", "code.session-mgmt"),
    "py-drf-auth-classes": ("code.authn", "code.jwt", "python.auth-settings"),
    "py-drf-permission-classes": ("code.authn", "code.authz-check"),
    "py-email-password-setting": ("code.password-handling",),
    "py-email-verification-task": (
        "code.lifecycle",
        "code.signing",
        "code.token-word",
        "path.hint.user",
    ),
    "py-fastapi-cors-credentials": ("code.cors-credentials",),
    "py-fastapi-depends-user": ("code.current-user-dependency",),
    "py-fastapi-security-module": (
        "code.password-handling",
        "code.password-hashing",
        "path.security",
    ),
    "py-flask-admin-required": ("code.auth-decorator", "code.authz-check", "code.lifecycle"),
    "py-flask-login-manager": (
        "code.auth-decorator",
        "code.authn",
        "code.current-user-dependency",
        "code.login-flow",
    ),
    "py-impersonation": (
        "code.admin-word",
        "code.auth-decorator",
        "code.authz-check",
        "code.lifecycle",
        "code.session-word",
    ),
    "py-invitation-accept": (
        "code.current-user",
        "code.lifecycle",
        "code.token-word",
        "path.hint.org",
    ),
    "py-jwt-expiry-constant": ("code.token-kinds", "python.auth-settings"),
    "py-ldap-settings": ("code.authn", "code.sso", "python.auth-settings"),
    "py-login-required-removed": ("code.auth-decorator", "code.login-flow"),
    "py-migration-user-role": ("code.admin-word", "code.role-word", "path.hint.user", "path.roles"),
    "py-oauth-state-removed": ("code.authn",),
    "py-oauth2-scheme": ("code.authn", "code.password-word", "code.token-kinds", "code.token-word"),
    "py-okta-scim-deactivate": ("path.sso",),
    "py-org-member-cleanup": ("code.lifecycle", "code.token-word", "path.hint.org"),
    "py-password-reset-token": (
        "code.password-handling",
        "code.password-word",
        "code.token-kinds",
        "code.token-word",
        "path.hint.user",
    ),
    "py-pyproject-authlib": ("deps.auth-library",),
    "py-queryset-owner-filter-removed": ("code.ownership",),
    "py-rate-limit-login": ("code.login-flow",),
    "py-rename-auth-decorators": ("path.authn",),
    "py-requirements-pyjwt": ("deps.auth-library",),
    "py-role-compare-service": (
        "code.admin-word",
        "code.ownership",
        "code.role-check",
        "code.role-word",
    ),
    "py-saml-acs": ("code.authn", "code.sso", "path.sso"),
    "py-secret-key-fallback": ("code.secrets", "python.auth-settings"),
    "py-session-cookie-secure": (
        "code.cookie-flags",
        "code.cookie-word",
        "code.csrf",
        "code.session-mgmt",
        "code.session-word",
        "python.auth-settings",
    ),
    "py-test-expired-token": ("code.authn", "code.token-kinds", "path.authn"),
    "py-totp-enroll": ("code.mfa", "code.secret-word", "path.hint.user", "path.mfa"),
    "py-user-support-flag": ("code.capability", "path.hint.user"),
    "py-webhook-hmac-removed": ("code.http-auth-status-code", "code.secrets", "code.signing"),
    "rego-policy": ("code.role-check", "config.identity-key", "path.authz", "path.policy-as-code"),
    "rename-into-auth": ("path.authn",),
    "ruby-admin-check": ("code.admin-word", "code.current-user", "ruby.authz"),
    "ruby-cancan-ability": ("path.authz", "ruby.authz"),
    "ruby-devise-before-action-removed": ("code.authn", "ruby.authz"),
    "ruby-gemfile-omniauth": ("code.authn", "deps.auth-library"),
    "ruby-migration-admin-flag": ("code.admin-word", "path.hint.admin", "path.hint.user"),
    "ruby-pundit-authorize": ("code.authn", "ruby.authz"),
    "ruby-seeds-admin": ("code.admin-word", "code.password-handling", "code.password-word"),
    "ruby-skip-csrf": ("code.csrf", "ruby.authz"),
    "sql-grant-reporting": ("path.roles", "sql.authz"),
    "sql-supabase-rls": ("code.authn", "code.authz-check", "sql.authz"),
    "ssh-authorized-keys": ("path.authz", "path.key-material", "secret.ssh-public-key"),
    "symlink-into-auth": ("git.symlink",),
    "tf-azure-role-assignment": (
        "code.role-check",
        "config.identity-key",
        "iac.iam-resource",
        "iac.policy-statement",
    ),
    "tf-gcp-iam-member": (
        "code.api-keys",
        "config.identity-key",
        "iac.iam-resource",
        "iac.policy-statement",
    ),
    "tf-iam-actions-widened": ("iac.policy-statement", "path.authz"),
    "tf-iam-role-policy": ("config.identity-key", "iac.iam-resource", "iac.policy-statement"),
    "ts-api-key-service": ("path.credentials",),
    "ts-auth-store": ("code.login-call", "code.token-kinds", "code.token-word", "path.authn"),
    "ts-axios-auth-header": ("code.authn", "code.token-kinds"),
    "ts-bcrypt-compare": (
        "code.credential-compare",
        "code.password-handling",
        "code.password-hashing",
        "code.password-word",
        "path.hint.user",
    ),
    "ts-cors-credentials": ("code.cors-credentials",),
    "ts-express-session-secret": (
        "code.secret-word",
        "code.secrets",
        "code.session-mgmt",
        "code.session-word",
    ),
    "ts-invitation-accept-route": (
        "code.lifecycle",
        "code.ownership",
        "code.role-check",
        "code.role-word",
        "code.session-word",
        "code.token-word",
        "path.lifecycle",
    ),
    "ts-jwt-expiry-helper": ("code.jwt", "code.secrets"),
    "ts-jwt-verify-options": ("code.jwt", "code.token-word", "path.hint.middleware"),
    "ts-nest-guards-added": (
        "code.admin-word",
        "code.auth-decorator",
        "code.authn",
        "code.jwt",
        "code.role-check",
        "code.role-word",
    ),
    "ts-nest-public-decorator": ("code.auth-decorator",),
    "ts-next-middleware-matcher": ("code.admin-word", "path.hint.middleware"),
    "ts-nextauth-route": ("code.session-word", "code.token-word", "path.authn"),
    "ts-passkeys-lib": ("path.mfa",),
    "ts-password-reset-controller": (
        "code.password-handling",
        "code.password-word",
        "code.random-secret",
        "code.token-kinds",
        "code.token-word",
        "path.hint.user",
    ),
    "ts-pricing-page": ("code.sso",),
    "ts-protected-route": ("code.authn", "code.authz-check"),
    "ts-role-check-service": (
        "code.admin-word",
        "code.http-auth-status",
        "code.ownership",
        "code.role-check",
        "code.role-word",
    ),
    "ts-scim-users": ("code.lifecycle", "path.sso"),
    "ts-session-cookie-flags": ("code.cookie-flags", "code.cookie-word", "path.hint.session"),
    "ts-trpc-remove-member": (
        "code.authz-check",
        "code.lifecycle",
        "code.role-check",
        "code.role-word",
        "path.hint.org",
    ),
    "ts-useauth-in-page": ("code.authn", "code.authz-check", "code.http-auth-status"),
    "zero-width-path": ("path.authn",),
}

POLICY: dict[str, tuple[str, ...]] = {
    "gha-permissions-id-token": (
        "ci.permissions",
        "code.token-kinds",
        "config.identity-key",
        "policy:content:tok",
    ),
    "go-auth-middleware": (
        "code.current-user",
        "code.jwt",
        "code.token-word",
        "go.auth-calls",
        "path.authn",
        "path.hint.middleware",
        "policy:content:tok",
    ),
    "go-claims-role-billing": (
        "code.current-user",
        "code.http-auth-status",
        "code.role-check",
        "code.role-word",
        "go.auth-calls",
        "policy:path:**/handlers/*.go",
    ),
    "go-lexer": ("policy:content:tok",),
    "java-gradle-jjwt": ("code.jwt", "deps.auth-library", "policy:content:tok"),
    "jenkins-credentials": (
        "ci.credentials",
        "code.secret-word",
        "code.token-kinds",
        "code.token-word",
        "policy:content:tok",
    ),
    "js-package-jsonwebtoken": ("code.jwt", "deps.auth-library", "policy:content:tok"),
    "mu-go-products-handler": ("policy:path:**/handlers/*.go",),
    "mu-js-syntax-tokens": ("policy:content:tok",),
    "py-email-verification-task": (
        "code.lifecycle",
        "code.signing",
        "code.token-word",
        "path.hint.user",
        "policy:content:tok",
    ),
    "py-invitation-accept": (
        "code.current-user",
        "code.lifecycle",
        "code.token-word",
        "path.hint.org",
        "policy:content:tok",
    ),
    "py-lexer-tokens": ("policy:content:tok",),
    "py-oauth2-scheme": (
        "code.authn",
        "code.password-word",
        "code.token-kinds",
        "code.token-word",
        "policy:content:tok",
    ),
    "py-pagination-token": ("policy:content:tok",),
    "py-password-reset-token": (
        "code.password-handling",
        "code.password-word",
        "code.token-kinds",
        "code.token-word",
        "path.hint.user",
        "policy:content:tok",
    ),
    "py-role-compare-service": (
        "code.admin-word",
        "code.ownership",
        "code.role-check",
        "code.role-word",
        "policy:path:billing*/**",
    ),
    "py-webhook-hmac-removed": (
        "code.http-auth-status-code",
        "code.secrets",
        "code.signing",
        "policy:content:stripe",
    ),
    "ruby-skip-csrf": ("code.csrf", "policy:content:tok", "ruby.authz"),
    "ts-auth-store": (
        "code.login-call",
        "code.token-kinds",
        "code.token-word",
        "path.authn",
        "policy:content:tok",
    ),
    "ts-axios-auth-header": ("code.authn", "code.token-kinds", "policy:content:tok"),
    "ts-invitation-accept-route": (
        "code.lifecycle",
        "code.ownership",
        "code.role-check",
        "code.role-word",
        "code.session-word",
        "code.token-word",
        "path.lifecycle",
        "policy:content:tok",
    ),
    "ts-jwt-verify-options": (
        "code.jwt",
        "code.token-word",
        "path.hint.middleware",
        "policy:content:tok",
    ),
    "ts-nextauth-route": (
        "code.session-word",
        "code.token-word",
        "path.authn",
        "policy:content:tok",
    ),
}

#: Cases that fire nothing under the policy although they do with the built-in rules.
POLICY_EMPTY = frozenset({"gitlink-chart-lib", "gitlink-under-auth", "py-test-expired-token"})


def test_fixture_cases_are_all_known() -> None:
    assert set(BUILTIN) | set(POLICY) | POLICY_EMPTY <= set(CASES)


def test_builtin_verdicts_are_unchanged() -> None:
    fired = {i: CLF.classify(c.change) for i, c in CASES.items()}
    assert {i: ids for i, ids in fired.items() if ids} == BUILTIN


def test_policy_verdicts_are_unchanged() -> None:
    expected = {i: POLICY.get(i, BUILTIN.get(i, ())) for i in CASES if i not in POLICY_EMPTY}
    fired = {i: POLICY_CLF.classify(c.change) for i, c in CASES.items()}
    assert {i: ids for i, ids in fired.items() if ids} == {i: e for i, e in expected.items() if e}


def test_digests_are_unchanged() -> None:
    assert ruleset_digest(RULESET_V1) == BUILTIN_DIGEST == CLF.ruleset_digest
    assert POLICY_CLF.ruleset_digest == POLICY_DIGEST
