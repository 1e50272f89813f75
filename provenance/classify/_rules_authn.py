"""Built-in content rules for source code: authentication, sessions, tokens and secrets.

Most rules run on the WORDS view (identifiers split into lower-case words, ``_`` and ``-``
turned into spaces), so ``\\bauth\\b`` matches ``authMiddleware``, ``auth_token`` and
``OAuth`` but never ``author`` or ``authority``; ``tokenize`` never reads as ``token``.
Ambiguous words (session, role, token, admin, password...) are WEAK and fire only together.
"""

from __future__ import annotations

from provenance.classify._model import ContentRule, Strength

CODE = frozenset(
    {"python", "js", "go", "jvm", "ruby", "php", "code", "shell", "sql", "template", "other"}
)
CONF = frozenset({"config", "ci"})
CODE_CONF = CODE | CONF

S, M, W = Strength.STRONG, Strength.MEDIUM, Strength.WEAK

_CSRF = r"\b[cx]srf\w*|\bauthenticity token\b|\bprotect from forgery\b|\bforgery protection\b"

AUTHN_RULES: tuple[ContentRule, ...] = (
    ContentRule(
        "code.authn",
        "auth / authentication / authorization identifiers (not author, authority)",
        r"\b(?:auth(?:n|z|0|ed)?\d*(?! user model\b)|authenticat\w*|unauthenticated"
        r"|(?:un|re|pre|de)?authori[sz](?:e|ed|es|ing|ation|ations|er|ers)|reauth\w*"
        r"|o ?auth\d*\w*)\b",
        CODE_CONF,
        hints=("auth",),
    ),
    ContentRule(
        "code.login-flow",
        "login/logout/sign-up machinery (login_required, handleLogin, login(request, ...))",
        r"\b(?:log ?in|log ?out|sign ?in|sign ?out|sign ?up|log ?off) (?:required|manager|view"
        r"|url|redirect(?: url)?|user|attempts?|throttle|rate|session|token|handler|callback"
        r"|flow|provider|strategy|hint|serializer|schema|mutation|action|service|controller"
        r"|endpoint)\b|\b(?:handle|on|do|perform|process|try|require|force|attempt|failed"
        r"|successful|after|before|social|sso|auto|magic) (?:log ?ins?|log ?outs?|sign ?ins?"
        r"|sign ?outs?|sign ?ups?)\b|\b(?:log ?in|log ?out)\(request\b",
        CODE,
        strength=M,
        hints=(
            "login",
            "logout",
            "signin",
            "signout",
            "signup",
            "sign in",
            "sign up",
            "log in",
            "log out",
            "sign out",
            "sign_",
            "log_",
            "sign-",
            "log-",
            "logoff",
        ),
    ),
    ContentRule(
        "code.login-call",
        "a call to something named login/logout/sign-in",
        r"\b(?:log ?in|log ?out|sign ?in|sign ?out|sign ?up|log ?off) ?\(",
        CODE,
        strength=W,
        concept="login",
        hints=("log", "sign"),
    ),
    ContentRule(
        "code.session-mgmt",
        "session lifetime, fixation, storage and session middleware",
        r"\bsession (?:cookie|secret|timeout|expir\w*|age|ttl|lifetime|fixation"
        r"|regenerat\w*|invalidat\w*|destroy|middleware|engine|serializer|auth\w*|token)\b"
        r"|\b(?:regenerate|destroy|invalidate|flush|rotate|cycle|revoke|kill|terminate|end)"
        r" ?(?:all )?sessions?\b|\b(?:express|cookie|iron|secure|flask|get server|get iron"
        r"|use) ?session\b|\bsession\.(?:regenerate|destroy|invalidate|flush|cycle key"
        r"|set expiry)\b",
        CODE_CONF,
        hints=("session",),
    ),
    ContentRule(
        "code.session-word",
        "the word session (not sessionStorage or a database session)",
        r"(?<!db\.)(?<!client )\bsessions?\b(?! (?:storage|local|maker|scope|factory|pool))",
        CODE,
        strength=W,
        concept="session",
        hints=("session",),
    ),
    ContentRule(
        "code.cookie-flags",
        "cookie security flags and cookie-issuing calls",
        r"\b(?:http ?only|same ?site|(?:session|csrf|auth|remember|jwt|signed) cookies?"
        r"|cookies?\W{1,4}(?:secure|http ?only|same ?site|domain|secret|max ?age|expires|prefix"
        r"|options))\b",
        CODE_CONF,
        hints=("cookie", "httponly", "samesite", "http_only", "same_site", "http-only"),
    ),
    ContentRule(
        "code.cookie-word",
        "cookies, setting a cookie, or a bare secure flag",
        r"\bcookies?\b|\bset ?cookie\b|^\s*secure\s*[:=]",
        CODE,
        strength=W,
        concept="cookie",
        hints=("cookie", "secure"),
    ),
    ContentRule(
        "code.csrf",
        "CSRF protection",
        _CSRF,
        CODE_CONF - {"template"},
        hints=("csrf", "xsrf", "authenticity", "forgery"),
    ),
    ContentRule(
        "template.csrf",
        "CSRF tokens in templates (every form has one, so this only counts with other signals)",
        _CSRF,
        frozenset({"template"}),
        strength=W,
        concept="csrf",
        hints=("csrf", "xsrf", "authenticity", "forgery"),
    ),
    ContentRule(
        "code.cors-credentials",
        "CORS with credentials",
        r"\b(?:allow ?credentials|supports ?credentials|access control allow credentials"
        r"|(?:with ?)?credentials\s*[:=]\s*true)\b",
        CODE_CONF,
        hints=("credentials",),
    ),
    ContentRule(
        "code.jwt",
        "JSON Web Tokens and keys",
        r"\b(?:jwts?|jwks?|jwk set|jws|jwe|json ?web ?(?:token|key|signature)s?|jsonwebtoken"
        r"|jjwt|nimbus)\b",
        CODE_CONF,
        hints=("jw", "json web", "json_web", "jsonweb", "nimbus"),
    ),
    ContentRule(
        "code.token-kinds",
        "access, refresh, reset, invite and other credential tokens; bearer tokens",
        r"\b(?:(?:access|refresh|id|auth|api|session|reset|verification|verify"
        r"|confirmation|confirm|invite|invitation|activation|remember|personal access"
        r"|one time|otp|mfa|sso|oauth|oidc|github|gitlab|npm|pypi|deploy|registry|job) tokens?"
        r"|bearer|token (?:url|endpoint|expir\w*|ttl|lifetime|secret|hash|validat\w*|verif\w*"
        r"|revo\w*|issu\w*|rotat\w*|refresh|introspect\w*|exchange|generator|required"
        r"|blacklist|blocklist|denylist|max age)|(?:issue|revoke|rotate|validate|verify"
        r"|refresh|decode|sign|exchange|introspect|create) (?:access |auth |api |refresh |id )?"
        r"tokens?|magic ?links?)\b",
        CODE_CONF,
        hints=("token", "bearer", "magic"),
    ),
    ContentRule(
        "code.token-word",
        "the word token",
        r"(?<![cx]srf )\btokens?\b",
        CODE,
        strength=W,
        concept="token",
        hints=("token",),
    ),
    ContentRule(
        "code.secrets",
        "secret keys, client secrets, signing keys and credential stores",
        r"\b(?:(?:secret|signing|private|encryption|master|hmac|jwt|session|app|client"
        r"|webhook|shared|deploy|ssh|gpg|pgp) (?:keys?|secrets?)|client ?secret|secret (?:key"
        r"|access key|token|manager|store|ref|name)|secrets? ?manager|key ?vault|credentials?"
        r" (?:file|provider|json|from json|manager|store|helper)|(?:aws|gcp|google|azure"
        r"|application default|static|default) credentials?|passphrase|htpasswd)\b",
        CODE_CONF,
        hints=("secret", "key", "credential", "passphrase", "htpasswd", "vault"),
    ),
    ContentRule(
        "code.secret-word",
        "the words secret or credentials",
        r"\b(?:secrets?|credentials?|creds)\b",
        CODE,
        strength=W,
        concept="secret",
        hints=("secret", "cred"),
    ),
    ContentRule(
        "code.api-keys",
        "API keys and tokens, deploy and SSH keys, service accounts and workload identity",
        r"\b(?:x api key|api ?keys?|apikeys?|api ?tokens?|personal access tokens?|deploy keys?"
        r"|ssh keys?|access keys?(?: ids?)?|service ?accounts?|service principals?"
        r"|workload identity|managed identity|instance profile)\b",
        CODE_CONF,
        hints=("api", "key", "token", "service", "identity", "profile"),
    ),
    ContentRule(
        "code.key-hash",
        "hashed or prefixed credentials (key_hash, hashed_token)",
        r"\b(?:(?:api )?(?:key|token|secret) (?:hash|hashed|digest|prefix)|hash(?:ed)? (?:api )?"
        r"(?:key|token|secret)|set (?:api )?key)\b",
        CODE,
        strength=M,
        hints=("hash", "digest", "prefix", "key"),
    ),
    ContentRule(
        "code.password-handling",
        "setting, checking, resetting and storing passwords",
        r"\b(?:(?:set|check|make|hash|hashed|verify|compare|validate|reset|change|update|forgot"
        r"|forgotten|encode|encrypt|new|old|current|confirm|temporary|temp|default|initial"
        r"|one time|master|admin|root|db|database|smtp|email host|redis) ?passwords?|passwords?"
        r" (?:hash\w*|reset\w*|change\w*|validators?|validation|encoder|digest|salt|policy"
        r"|expir\w*|strength|history|confirm\w*|token|stdin|file|grant|field|input|form"
        r"|complexity|rules|verif\w*|manager|less)|passwd|pwd ?context)\b",
        CODE_CONF,
        strength=M,
        hints=("pass", "pwd"),
    ),
    ContentRule(
        "code.password-word",
        "the word password",
        r"\bpasswords?\b",
        CODE,
        strength=W,
        concept="password",
        hints=("password",),
    ),
    ContentRule(
        "code.password-hashing",
        "password hashing libraries and primitives",
        r"\b(?:bcrypt\w*|argon2\w*|scrypt|pbkdf2\w*|passlib|pwdlib|crypt ?context|hashpw"
        r"|checkpw|gen ?salt|generate from password|compare hash and password|password ?hashers?"
        r"|password ?encoder)\b",
        CODE_CONF,
        hints=(
            "crypt",
            "argon",
            "pbkdf",
            "passlib",
            "pwdlib",
            "hashpw",
            "checkpw",
            "salt",
            "password",
        ),
    ),
    ContentRule(
        "code.mfa",
        "multi-factor authentication, OTP, WebAuthn and passkeys",
        r"\b(?:mfa|2fa|two ?factor|multi ?factor|second factor|totp|hotp|otp\w*|web ?authn"
        r"|passkeys?|fido2?|u2f|authenticator app|recovery codes?|backup codes?"
        r"|provisioning uri)\b",
        CODE_CONF,
        hints=(
            "mfa",
            "2fa",
            "factor",
            "otp",
            "webauthn",
            "web_authn",
            "passkey",
            "fido",
            "u2f",
            "authenticator",
            "codes",
            "provisioning",
        ),
    ),
    ContentRule(
        "code.sso",
        "single sign-on: SAML, OIDC, LDAP, SCIM and identity providers",
        r"\b(?:sso|saml\w*|oidc|openid\w*|open id connect|ldap\w*|kerberos|keycloak|okta"
        r"|cognito|msal|entra id|azure ad|scim|idp|id p|identity provider|identity platform"
        r"|redirect ?uri|acs url|assertion consumer|issuer url|jwks uri)\b",
        CODE_CONF,
        hints=(
            "sso",
            "saml",
            "oidc",
            "openid",
            "open id",
            "ldap",
            "kerberos",
            "keycloak",
            "okta",
            "cognito",
            "msal",
            "entra",
            "azure",
            "scim",
            "idp",
            "identity",
            "redirect",
            "acs",
            "assertion",
            "issuer",
            "jwks",
        ),
    ),
)
