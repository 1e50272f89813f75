"""Dependencies: a manifest or lockfile counts when an identity or crypto library's version moves.

IDENTITY-RUBRIC.md: a version change of a library that authenticates, authorizes, issues or
checks tokens or sessions, or does the crypto those rely on, is identity-related; bumps of
other libraries and lockfile churn (hashes, reordering, resolved URLs) are not. ``@2`` parses
both sides (``_v2_lockfiles``), lists the packages whose versions differ, were added or were
removed, and fires ``deps.identity-library`` when one of them is such a library: a name from
``@1``'s list (``AUTH_LIBRARIES``) or the additions below, or a package whose name has an
identity word as a whole word (``passport-saml``, ``flask-session``, ``rack-session``).

When a side cannot be read (unknown format, not parsable, not read because too large) the
change is judged by ``@1``'s line rule ``deps.auth-library`` instead: fail closed. ``go.sum``
only records checksums of modules ``go.mod`` pins and never counts on its own.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from provenance.classify._locate import Line
from provenance.classify._rules_config import AUTH_LIBRARIES
from provenance.classify._v2_lockfiles import HASH_ONLY, changed, parser_for, versions

RULE = "deps.identity-library"
DOC = "the version of an identity, session or crypto library changed (manifest or lockfile)"

#: Libraries ``@1`` did not list (case-folded names; Maven as group:artifact, Go module paths).
MORE_LIBRARIES: tuple[str, ...] = (
    # sessions, CSRF and login rate limits
    r"rack-session", r"rack-protection", r"rack-attack", r"flask-session", r"flask-wtf",
    r"django-csp", r"connect-redis", r"connect-mongo",
    # crypto the rest relies on
    r"cryptography", r"pycryptodomex?", r"pynacl", r"pyopenssl", r"rsa", r"ecdsa",
    r"node-forge", r"crypto-js", r"tweetnacl(?:-[\w-]+)?", r"libsodium(?:-[\w-]+)?",
    r"openssl", r"rbnacl", r"ring", r"rustls(?:-[\w-]+)?", r"openssl-sys", r"pbkdf2", r"scrypt",
    r"password-hash", r"org\.bouncycastle:[\w.-]+", r"com\.google\.crypto\.tink:[\w.-]+",
    r"phpseclib/phpseclib", r"paragonie/[\w.-]+", r"defuse/php-encryption",
    r"github\.com/protonmail/go-crypto[\w./-]*", r"filippo\.io/[\w./-]+",
    # Rust
    r"jsonwebtoken", r"oauth2", r"openidconnect", r"axum-login", r"tower-sessions[\w-]*",
    r"actix-identity", r"actix-session", r"webauthn-rs[\w-]*", r"totp-rs", r"biscuit-auth",
    r"jwt-simple", r"josekit", r"pasetors",
    # .NET
    r"microsoft\.aspnetcore\.(?:authentication|authorization|identity|dataprotection"
    r"|antiforgery|session)[\w.]*", r"microsoft\.identity[\w.]*", r"microsoft\.identitymodel[\w.]*",
    r"system\.identitymodel[\w.]*", r"identityserver4[\w.]*", r"duende\.[\w.]+",
    r"openiddict[\w.]*", r"azure\.identity", r"bcrypt\.net[\w.-]*",
    # PHP
    r"onelogin/php-saml", r"aacotroneo/laravel-saml2", r"socialiteproviders/[\w.-]+",
    r"pragmarx/google2fa[\w-]*", r"web-auth/[\w.-]+", r"lcobucci/jwt", r"symfony/security[\w-]*",
    r"scheb/2fa[\w-]*", r"hwi/oauth-bundle", r"knpuniversity/oauth2-client-bundle",
    r"lexik/jwt-authentication-bundle", r"directorytree/ldaprecord[\w-]*", r"adldap2/[\w.-]+",
    # Go
    r"github\.com/(?:go-chi/jwtauth|go-pkgz/auth|jcmturner/gokrb5)[\w./-]*",
    # Ruby
    r"rack-oauth2", r"jwt-[\w-]+", r"omniauth[\w-]*", r"devise[\w-]*",
)  # fmt: skip
#: Whole words of a package name that make it an identity library.
_WORDS = frozenset(
    {
        "oauth", "oauth2", "oidc", "openid", "saml", "saml2", "jwt", "jwk", "jwks", "jose",
        "ldap", "ldap3", "webauthn", "passkey", "passkeys", "totp", "otp", "scim", "kerberos",
        "keycloak", "casbin", "auth", "authn", "authz", "auth0", "authlib", "bcrypt", "argon2",
        "passport", "csrf", "rbac", "sso", "mfa", "2fa", "session", "sessions", "crypto",
        "nacl", "sodium", "oauthlib", "hotp", "fido2", "u2f", "permission", "permissions",
        "acl", "jwtauth", "securecookie", "paseto",
    }
)  # fmt: skip


@cache
def _known() -> re.Pattern[str]:
    names = "|".join((*AUTH_LIBRARIES, *MORE_LIBRARIES))
    return re.compile(rf"(?:{names})", re.IGNORECASE)


def identity_library(name: str) -> bool:
    """True when a package name is an identity, session or crypto library."""
    name = name.casefold()
    parts = {name, *name.split(":")}  # Maven: group:artifact
    if any(_known().fullmatch(p) for p in parts):
        return True
    return not _WORDS.isdisjoint(re.split(r"[^a-z0-9]+", name))


def applies(path: str) -> bool:
    """True for a manifest or lockfile this stage reads (or ``go.sum``, which never counts)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].casefold()
    return name in HASH_ONLY or parser_for(path) is not None


def dependency_rules(
    path: str, old: str | None, new: str | None, lines: list[Line]
) -> dict[str, list[tuple[str, int]]] | None:
    """``{deps.identity-library: lines}`` (or ``{}``), ``None`` when a side cannot be read.

    ``old``/``new`` are the sides' texts, ``""`` for a side that does not exist.
    """
    if path.replace("\\", "/").rsplit("/", 1)[-1].casefold() in HASH_ONLY:
        return {}
    if old is None or new is None:
        return None
    before = versions(path, old) if old else {}
    after = versions(path, new) if new else {}
    if before is None or after is None:
        return None
    moved = [name for name in changed(before, after) if identity_library(name)]
    if not moved:
        return {}
    words = [re.escape(name.rpartition(":")[2].split("/")[-1]) for name in moved]
    mention = re.compile("|".join(words), re.IGNORECASE)
    where = [(side, n) for side, n, text in lines if mention.search(text)]
    return {RULE: where or [(side, n) for side, n, _ in lines[:1]]}


def deps_document() -> dict[str, Any]:
    """The stage's tables, for the ruleset digest."""
    return {"more_libraries": list(MORE_LIBRARIES), "words": sorted(_WORDS)}
