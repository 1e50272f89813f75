"""Built-in content rules specific to one language, matched on the raw (case-sensitive) text."""

from __future__ import annotations

from provenance.classify._model import ContentRule, Strength, View

S, M, W = Strength.STRONG, Strength.MEDIUM, Strength.WEAK

LANGUAGE_RULES: tuple[ContentRule, ...] = (
    ContentRule(
        "python.auth-settings",
        "Django/Flask/FastAPI auth, session, CSRF, password and secret-key settings",
        r"^\s*['\"]?(?:AUTH_[A-Z_]+|AUTHENTICATION_BACKENDS|PASSWORD_[A-Z_]+|LOGIN_[A-Z_]+"
        r"|LOGOUT_[A-Z_]+|SESSION_[A-Z_]+|CSRF_[A-Z_]+|SOCIALACCOUNT_[A-Z_]+|ACCOUNT_[A-Z_]+"
        r"|SIMPLE_JWT|JWT_[A-Z_]+|OAUTH2?_[A-Z_]+|SECRET_KEY|SIGNING_KEY|CORS_ALLOW_CREDENTIALS"
        r"|DEFAULT_(?:PERMISSION|AUTHENTICATION)_CLASSES|REMEMBER_COOKIE_[A-Z_]+"
        r"|ACCESS_TOKEN_[A-Z_]+|REFRESH_TOKEN_[A-Z_]+)['\"]?\s*[:=]",
        frozenset({"python"}),
        view=View.RAW,
        hints=(
            "auth",
            "password",
            "login",
            "logout",
            "session",
            "csrf",
            "account",
            "secret",
            "signing",
            "cors",
            "permission",
            "jwt",
            "cookie",
            "token",
        ),
    ),
    ContentRule(
        "ruby.authz",
        "Rails filters, CanCanCan, Pundit, Devise and admin predicates",
        r"^\s*(?:prepend_|append_|skip_)?(?:before|after|around)_action\s+:(?:authenticate\w*"
        r"|authorize\w*|require_\w+|verify_authenticity_token|check_\w+|ensure_\w+"
        r"|logged_in\w*|admin\w*|set_current_user)|\bcan(?:not)?\?\s*[(:]"
        r"|^\s*(?:can|cannot)\s+:\w+|\b(?:admin|staff|superuser|owner|moderator)\?"
        r"|\bhas_role\?|\bhas_secure_(?:password|token)\b|\bprotect_from_forgery\b"
        r"|\bload_and_authorize_resource\b|\bauthorize!?\s+[@:]\w+|\bpolicy_scope\b"
        r"|\bcurrent_user\.(?:admin|has_role|can|role)|\bdevise\s+:\w+|\bwarden\.\w+",
        frozenset({"ruby"}),
        view=View.RAW,
    ),
    ContentRule(
        "js.auth-calls",
        "Passport, NextAuth, Clerk and Express auth calls; auth library imports by name",
        r"\bpassport\.(?:authenticate|use|serializeUser|deserializeUser|initialize|session)\b"
        r"|\breq\.(?:isAuthenticated|login|logIn|logout|logOut)\b|\b(?:getServerSession"
        r"|getServerAuthSession|unstable_getServerSession|withAuth|withPageAuthRequired"
        r"|withApiAuthRequired|requireAuth|ensureAuthenticated|authMiddleware|clerkMiddleware"
        r"|getAuth|getToken)\b|['\"](?:jose|jsonwebtoken|bcryptjs?|argon2|passport[\w-]*|otplib"
        r"|speakeasy|@casl/[\w-]+|lucia|iron-session|express-session|cookie-session|csurf"
        r"|@clerk/[\w/-]+|grant|jwks-rsa|oidc-client[\w-]*|openid-client|keycloak-js)['\"]",
        frozenset({"js"}),
        view=View.RAW,
    ),
    ContentRule(
        "go.auth-calls",
        "Go auth packages: jwt, bcrypt, oauth2, oidc, sessions, csrf, casbin, subtle",
        r"\b(?:jwt\.\w+|bcrypt\.\w+|subtle\.ConstantTimeCompare|hmac\.(?:New|Equal)"
        r"|oauth2\.(?:Config|Token|StaticTokenSource|NewClient)|oidc\.\w+|sessions\.\w+"
        r"|csrf\.\w+|casbin\.\w+|securecookie\.\w+|ldap\.\w+|webauthn\.\w+|totp\.\w+"
        r"|middleware\.(?:JWT\w*|BasicAuth\w*|KeyAuth\w*|CSRF\w*)|gin\.BasicAuth\w*|echojwt\.\w+"
        r"|SetBasicAuth|BasicAuth\(\)|http\.Status(?:Unauthorized|Forbidden)"
        r"|codes\.(?:Unauthenticated|PermissionDenied)|google\.(?:CredentialsFromJSON"
        r"|FindDefaultCredentials|JWTConfigFromJSON)|option\.WithCredentials\w*)",
        frozenset({"go"}),
        view=View.RAW,
    ),
    ContentRule(
        "php.authz",
        "Laravel gates, guards, hashing and role packages",
        r"\b(?:Gate|Auth|Hash|Password|Sanctum|Passport|Socialite|JWTAuth)::\w+"
        r"|->(?:can|cannot|authorize|hasRole|hasPermissionTo|assignRole|givePermissionTo"
        r"|tokenCan|createToken)\(",
        frozenset({"php"}),
        view=View.RAW,
    ),
    ContentRule(
        "sql.authz",
        "database roles, grants and row-level security",
        r"\b(?:create|alter|drop)\s+(?:policy|role|user)\b|\bgrant\b|\brevoke\b"
        r"|\brow\s+level\s+security\b|\bsecurity\s+definer\b|\bauth\.(?:uid|jwt|role)\(\)",
        frozenset({"sql"}),
        view=View.RAW,
        ignore_case=True,
        hints=("policy", "role", "user", "grant", "revoke", "security", "auth"),
    ),
)
