"""Rules ``builtin:identity@2`` adds, widens or narrows: frameworks reviewers meet, guest and
sudo checks; string literals and roles that are no identity (decision 0027).

Each addition has positive and negative fixture cases (``tests/classify/test_v2_coverage.py``,
``tests/classify/test_v2_scope_qualifiers.py``).
"""

from __future__ import annotations

from dataclasses import replace

from provenance.classify._model import ContentRule, PathRule, Strength, View
from provenance.classify._rules_authn import CONF

S, M, W = Strength.STRONG, Strength.MEDIUM, Strength.WEAK

#: Alternatives appended to ``@1`` rules (``rule id`` -> (regex alternative, more hints)).
WIDENED: dict[str, tuple[str, tuple[str, ...]]] = {
    # guest and demo users, and re-authentication ("sudo mode") before sensitive actions
    "code.authz-check": (
        r"|\b(?:prevent|deny|block|forbid|disallow|restrict) ?(?:guest|anonymous|public|demo)"
        r" ?(?:access|users?|mode|only)?\b|\bis ?guest\b|\bguest ?access\b"
        r"|\b(?:require|requires|ensure|enforce|check) ?(?:sudo|recent ?login|fresh ?login"
        r"|password ?confirm\w*|re ?auth\w*)\b|\bsudo ?mode\b|\blogin ?required ?mixin\b"
        r"|\bpermission ?required ?mixin\b|\baccess ?mixin\b|\bauthentication ?classes\b"
        r"|\bauthorize ?(?:http ?)?requests\b|\brequest ?matchers\b",
        (
            "guest",
            "anonymous",
            "public",
            "demo",
            "sudo",
            "login",
            "confirm",
            "mixin",
            "authentication",
            "authorize",
            "matchers",
            "recent",
            "fresh",
            "reauth",
            "re_auth",
        ),
    ),
    "code.auth-decorator": (
        r"|^\s*@[\w .]*?\b(?:requires? sudo\w*|sudo \w*|guest\w*|fresh login\w*|reauth\w*)\b",
        (),
    ),
    # ownership assigned from the signed-in user (Rails keeps it in @user or @current_user)
    "code.ownership": (
        r"|\b(?:user|owner|author|creator|created by|submitter)(?: id)?\s*(?:=|:|=>)\s*"
        r"@(?:current )?user\b",
        ("@",),
    ),
    # FastAPI dependencies that authenticate or authorize, on one route or a whole router
    "code.current-user-dependency": (
        r"|\b(?:depends|security) ?\( ?[\w. ]{0,40}?\b(?:auth\w*|admin|user|login"
        r"|permissions?|roles?|scopes?|token|guard|verif\w*|staff|superuser|api key|principal)\b",
        ("depends", "security"),
    ),
    "ruby.authz": (
        r"|\b(?:verify_authorized|verify_policy_scoped|skip_authorization|skip_policy_scope"
        r"|http_basic_authenticate_with|authenticate_or_request_with_http_\w+"
        r"|authenticate_with_http_\w+|request_http_\w+_authentication)\b",
        (),
    ),
    "php.authz": (
        r"""|->middleware\(\s*\[?\s*['"](?:auth|can:|verified|password\.confirm|guest|role:"""
        r"""|permission:|signed|ability:|abilities:|throttle:login)|->authorizeResource\("""
        r"|\b(?:denyAccessUnlessGranted|isGranted|IsGranted)\(|#\[(?:IsGranted"
        r"|Security)\b|\bextends\s+Voter\b|\bVoterInterface\b|\bAccessDecisionManager\w*",
        (),
    ),
}

#: Words before "role" in one identifier that name no authorization role (words view:
#: ``tableRole`` reads ``table role``): ProseMirror table roles, WAI-ARIA roles, chat turns.
_NOT_AUTHZ_ROLE = (
    *("table", "aria", "cell", "column", "row", "message", "msg", "chat", "llm"),
    *("assistant", "button", "landmark", "widget", "menu", "menuitem", "tab", "grid"),
)
_QUALIFIED = "".join(rf"(?<!\b{w} )" for w in _NOT_AUTHZ_ROLE)
#: Receivers of a chat message's role, and the roles a chat turn has (OpenAI, Anthropic ...).
_TURNS = ("message", "msg", "chat", "turn")
_TURN_ROLES = r"""(?!\s*['"`](?:user|assistant|system|tool)['"`])"""
_COMPARED = r"roles?\s*(?:===?|!==?|\bin\b|\bnot in\b)"
_ROLE_CHECK = (
    r"\b"
    + _QUALIFIED
    + "".join(rf"(?<!\b{w}\.)" for w in _TURNS)
    + _COMPARED
    + "|(?:"
    + "|".join(rf"(?<=\b{w}\.)" for w in _TURNS)
    + r")roles?\s*(?:===?|!==?)(?!=)"
    + _TURN_ROLES
)
#: Alternatives of ``@1`` rules that ``@2`` narrows (rule id -> (``@1``'s text, ``@2``'s));
#: each ``@1`` text occurs exactly once in its rule (``widened`` checks).
NARROWED: dict[str, tuple[tuple[str, str], ...]] = {
    # a library's quoted name counts as an import, not as any string (an icon "passport")
    "js.auth-calls": (
        (
            r"|['\"](?:jose|",
            r"|(?:\bfrom\s*|^\s*import\s*|\b(?:require|import|mock|doMock|unmock|requireActual"
            r"|importActual|importMock|requireMock|resolve)\s*\(\s*)['\"](?:jose|",
        ),
    ),
    # a role of a table cell, an ARIA role or a chat turn's role decides no access
    "code.role-check": (
        (r"\broles?\s*(?:===?|!==?|\bin\b|\bnot in\b)", _ROLE_CHECK),
        (r"|\broles?\s?\.\s?(?:includes", r"|\b" + _QUALIFIED + r"roles?\s?\.\s?(?:includes"),
    ),
}

ADDED_CONTENT: tuple[ContentRule, ...] = (
    ContentRule(
        "dotnet.authz",
        "ASP.NET authorization attributes, policies, authentication setup and antiforgery",
        r"\[(?:Authorize|AllowAnonymous|ValidateAntiForgeryToken|IgnoreAntiforgeryToken"
        r"|AutoValidateAntiforgeryToken|RequireHttps)\b[^\]\n]*\]|\.(?:RequireAuthorization"
        r"|AllowAnonymous|AddAuthentication|AddAuthorization\w*|AddJwtBearer|AddCookie"
        r"|AddOpenIdConnect|AddMicrosoftIdentity\w*|AddIdentity\w*|UseAuthentication"
        r"|UseAuthorization|AddPolicy|AddAntiforgery|RequireRole|RequireClaim"
        r"|RequireAuthenticatedUser)\s*\(|\bUser\.IsInRole\s*\(|\bIAuthorizationHandler\b"
        r"|\bAuthorizationHandler<|\bAuthorizeAttribute\b|\bSignInManager<|\bUserManager<",
        frozenset({"code", "template"}),
        view=View.RAW,
    ),
    ContentRule(
        "rust.authz",
        "Rust extractors and guards that authenticate or authorize (axum, actix, rocket)",
        r"\bimpl\s*(?:<[^>\n]*>\s*)?(?:\w+::)*FromRequest(?:Parts)?\b|\bRequireAuth\w*"
        r"|\bValidateRequestHeaderLayer::(?:bearer|basic|custom)|\bHttpAuthentication::\w+"
        r"|\bactix_identity::|\bIdentity::login\b|#\[(?:protect|has_permissions|has_roles"
        r"|has_any_role|has_any_permission)\b|\btower_http::auth\b|\bAuthLayer\b"
        r"|\baxum_login::|\bjsonwebtoken::|\bargon2::|\bpassword_hash::|\bwebauthn_rs::",
        frozenset({"code"}),
        view=View.RAW,
    ),
    ContentRule(
        "js.middleware",
        "Express, Koa and Hono middleware that authenticates, on the app or on one route",
        r"\b(?:app|router|server|api|\w*[Rr]outer|routes?)\.(?:use|all|get|post|put|patch|delete"
        r"|options|head)\(\s*(?:['\"`][^'\"`\n]*['\"`]\s*,\s*)?(?:[\w.]+(?:\([^()\n]*\))?\s*,\s*)*"
        r"[\w.]*(?:[Aa]uth|[Ss]ession|[Pp]assport|[Jj]wt|JWT|[Cc]srf|CSRF|[Gg]uard|[Pp]rotect"
        r"|[Ll]ogin|[Pp]ermission|[Rr]ole|[Aa]dmin)",
        frozenset({"js"}),
        view=View.RAW,
    ),
    ContentRule(
        "code.session-identity",
        "the session or signed cookie entry that says who is logged in, read or written",
        r"(?i)(?:\bsess(?:ion)?|\$_SESSION|\bcookies\.(?:signed|encrypted|permanent))\s*"
        r"(?:\[\s*[:'\"]?|(?:\(\s*\)\s*)?(?:\.|->|::)(?:get|put|set|pull|has|forget)\s*\(\s*[:'\"]"
        r"|\.Values\[\s*\"|\(\s*['\"]|\??\.(?=[A-Za-z_]))"
        r"\w*(?:user|uid|account|member|principal|identity|impersonat|admin|role|tenant)",
        frozenset({"code", "python", "ruby", "php", "js", "go", "jvm"}),
        view=View.RAW,
    ),
    ContentRule(
        "js.middleware-matcher",
        "a middleware's route matcher (which paths its checks cover, with a middleware file)",
        r"^\s*matcher\s*:",
        frozenset({"js"}),
        view=View.RAW,
        strength=W,
        concept="route-scope",
    ),
    ContentRule(
        "go.middleware",
        "Go middleware chains and route groups that authenticate or authorize",
        r"\.(?:Use|With|Group|Route|Handle|HandleFunc|Wrap)\([^)\n]*\b\w*(?:[Aa]uth|[Ss]ession"
        r"|JWT|Jwt|CSRF|Csrf|[Aa]dmin|[Gg]uard|[Pp]rotect|[Ll]ogin|[Pp]ermission|[Rr]ole"
        r"|RequireUser|[Rr]equire[A-Z])\w*",
        frozenset({"go"}),
        view=View.RAW,
    ),
    ContentRule(
        "config.web-server-auth",
        "Apache and nginx authentication and access directives",
        r"^\s*(?:AuthType|AuthName|AuthUserFile|AuthGroupFile|AuthBasicProvider|AuthLDAP\w*"
        r"|Require\s+(?:valid-user|user|group|all|ip|host|not|env|expr)|Allow\s+from|Deny\s+from"
        r"|Satisfy|SSLVerifyClient|SSLRequire|auth_basic(?:_user_file)?|auth_request"
        r"|auth_jwt\w*|satisfy|ssl_verify_client|ssl_client_certificate)\b"
        r"|^\s*(?:allow|deny)\s+[\w.:/]+\s*;",
        CONF | frozenset({"other"}),
        view=View.RAW,
    ),
    ContentRule(
        "config.symfony-security",
        "Symfony security settings: access_control, firewalls, role hierarchy, password hashers",
        r"^\s*(?:access_control|firewalls|role_hierarchy|access_decision_manager"
        r"|password_hashers|encoders)\s*:",
        CONF,
        view=View.RAW,
    ),
)

#: Attributes that say what a record's user may do or whose the record is (decision 0030).
_PRIVILEGED = (
    r"(?:[Rr]oles?|[Rr]ole_?[Ii][Dd]s?|(?:[Ii]s_?)?[Aa]dmin|(?:[Ii]s_?)?[Ss]taff"
    r"|(?:[Ii]s_?)?[Ss]uper_?[Uu]ser|[Pp]ermissions?|[Pp]rivileges?|[Ss]copes?"
    r"|(?:[Oo]wner|[Uu]ser|[Aa]ccount|[Tt]enant|[Oo]rgani[sz]ation|[Oo]rg|[Tt]eam|[Cc]reator"
    r"|[Aa]uthor|[Gg]roup)_?[Ii][Dd]s?|(?:[Ee]mail_?)?[Vv]erified|[Cc]onfirmed|[Aa]pproved"
    r"|[Aa]ccess_?[Ll]evel)"
)
#: Request data a handler reads: bodies, forms, query strings, route parameters.
_REQUEST_DATA = (
    r"(?:\breq(?:uest)?\.(?:body|query|params|POST|GET|data|json|form|args|values|input)"
    r"|\bparams\[|\$request->\w+|\$_(?:POST|GET|REQUEST)"
    r"|\bctx\.request\.body|\bc\.(?:PostForm|Query|Param|FormValue)\(|\br\.(?:FormValue"
    r"|PostFormValue)\(|\br\.URL\.Query\(\)|\bpayload\.|\bbody\.)"
)

PROBED_CONTENT: tuple[ContentRule, ...] = (
    ContentRule(
        "code.privilege-assignment",
        "a role, admin flag, permission or owner of a record set from request data",
        r"(?<=[.>\[:'\"])" + _PRIVILEGED + r"['\"]?\s*\]?\s*=(?![=>])[^;\n]*" + _REQUEST_DATA,
        frozenset({"code", "python", "ruby", "php", "js", "go", "jvm"}),
        hints=(
            "role",
            "admin",
            "staff",
            "superuser",
            "permission",
            "privilege",
            "scope",
            "owner",
            "user",
            "account",
            "tenant",
            "org",
            "team",
            "creator",
            "author",
            "verified",
            "confirmed",
            "approved",
            "access",
            "group",
        ),
        view=View.RAW,
    ),
    ContentRule(
        "code.mass-assignment",
        "a list of attributes a request may assign (strong parameters, $fillable, "
        "attr_accessible, read-only fields) that names a role, admin flag or owner",
        r"(?:\bpermit\s*\(|\$fillable\b|\$guarded\b|\battr_accessible\b|\battr_protected\b"
        r"|\bread_only_fields\b|\bextra_kwargs\b|@JsonIgnore|\[BindNever\]|\bBind\(\s*\")"
        r"[^\n]*?[:'\"\s(,\[]" + _PRIVILEGED + r"\b",
        frozenset({"code", "python", "ruby", "php", "js", "go", "jvm"}),
        hints=(
            "permit",
            "fillable",
            "guarded",
            "attr_",
            "read_only_fields",
            "extra_kwargs",
            "jsonignore",
            "bindnever",
            "bind(",
        ),
        view=View.RAW,
    ),
    ContentRule(
        "code.session-renewal",
        "a session renewed, regenerated or cycled at sign-in (session fixation defence)",
        r"\breset_session\b|\bsession\.(?:regenerate|renew|rotate|cycle_key)\b"
        r"|\bsession\(\)\s*->\s*(?:regenerate|invalidate|migrate)\b|->regenerate\(\)"
        r"|\bsession_regenerate_id\b|\bcycle_key\s*\(|\bchangeSessionId\b|\bregenerateId\b"
        r"|\bsession_?[Ff]ixation\w*|\bSessionFixation\w*|\brotate_session\w*",
        frozenset({"code", "python", "ruby", "php", "js", "go", "jvm"}),
        view=View.RAW,
    ),
    ContentRule(
        "code.login-throttle",
        "a rate limit, throttle or lockout on sign-in, password or one-time-code attempts",
        r"\b(?:throttle|rate ?limit\w*|limiter|lockout|lock ?out|max ?(?:login ?)?attempts)\b"
        r"[^\n]*?\b(?:log ?ins?|sign ?ins?|passwords?|otp|mfa|2fa|totp|auth\w*|sessions?"
        r"|password ?resets?)\b|\b(?:log ?in|sign ?in|auth\w*|password|otp|session)s? ?"
        r"(?:limiter|throttle|rate ?limit\w*|lockout)\b",
        frozenset({"code", "python", "ruby", "php", "js", "go", "jvm"}),
        hints=("throttl", "limit", "lock"),
    ),
    ContentRule(
        "code.token-validation",
        "what a token's validation checks: lifetime, issuer, audience, signing key, claims",
        r"\b(?:Validate(?:Lifetime|Issuer|Audience|IssuerSigningKey|Actor|TokenReplay)"
        r"|RequireSignedTokens|RequireExpirationTime|RequireAudience|ClockSkew"
        r"|ignoreExpiration|ignoreNotBefore|verify_(?:exp|aud|iss|iat|nbf|signature|jti)"
        r"|WithoutClaimsValidation|SkipClaimsValidation|ParseUnverified|clockTolerance"
        r"|leeway|require_exp|requireExpiration|WithExpirationRequired|WithLeeway)\b",
        frozenset({"code", "python", "ruby", "php", "js", "go", "jvm"}),
        view=View.RAW,
    ),
    ContentRule(
        "code.cors-credentials",
        "cross-origin access with the user's cookies: allowed origins and credentials",
        r"\bAccess-Control-Allow-(?:Origin|Credentials)\b|\bCORS_(?:ORIGIN_ALLOW_ALL"
        r"|ALLOW_ALL_ORIGINS|ALLOW_CREDENTIALS|ALLOWED_ORIGINS|ORIGIN_WHITELIST"
        r"|ALLOWED_ORIGIN_REGEXES|SUPPORTS_CREDENTIALS)\b|\bsupports_credentials\b"
        r"|\b(?:AllowAnyOrigin|AllowAllOrigins|SetIsOriginAllowed)\b"
        r"|\b[Aa]llowCredentials\s*(?:\(|[:=]\s*(?:true|false|True|False)\b)"
        r"|\b(?:allowedOrigins|AllowedOrigins|allowed_origins)\s*[:=]"
        r"|\bcors\s*\(\s*\{|^\s*origin\s*:\s*(?:true|['\"`]\*['\"`])",
        frozenset({"code", "python", "ruby", "php", "js", "go", "jvm"}) | CONF,
        view=View.RAW,
    ),
    ContentRule(
        "code.identity-header",
        "the user, tenant or role a request acts as, read from a request header",
        r"(?:\bheaders?\s*(?:\.get\s*\(|\[)|\.Header\.Get\s*\(|\bget_?[Hh]eader\s*\("
        r"|\bheader\s*\(|\.Headers\[|\bMETA\s*(?:\.get\s*\(|\[))\s*['\"`](?:HTTP_)?"
        r"(?:[Xx][-_][\w-]*?(?:[Tt]enant|[Aa]ccount|[Uu]ser|[Oo]rg|[Ww]orkspace|[Tt]eam|[Rr]ole"
        r"|[Pp]rincipal|[Ii]mpersonat|TENANT|ACCOUNT|USER|ORG|WORKSPACE|TEAM|ROLE|PRINCIPAL)"
        r"|[Rr]emote[-_][Uu]ser|REMOTE_USER|[Xx][-_][Ff]orwarded[-_](?:[Uu]ser|[Ee]mail)"
        r"|X_FORWARDED_(?:USER|EMAIL))"
        r"[\w-]*['\"`]",
        frozenset({"code", "python", "ruby", "php", "js", "go", "jvm"}),
        hints=("x-", "x_", "remote", "forwarded"),
        view=View.RAW,
    ),
    ContentRule(
        "code.token-expiry",
        "when a reset, confirmation, invitation or one-time token was sent or expires",
        r"\b(?:reset(?: password)?|password reset|confirmation|invitation|invite|verification"
        r"|magic link|otp|remember(?: me)?|remember token|reset token|login token|one time)"
        r"(?: token| code)? (?:sent at|sent|expires?(?: at| in)?|expiry|expiration|valid until"
        r"|ttl|lifetime|timeout|period)\b",
        frozenset({"code", "python", "ruby", "php", "js", "go", "jvm"}),
        hints=("sent", "expir", "valid", "ttl", "lifetime", "timeout", "period"),
    ),
)

ADDED_PATHS: tuple[PathRule, ...] = (
    PathRule(
        "path.system-auth",
        "who may log in to or act on a machine: sudoers, sshd, PAM, NSS, Kerberos, polkit",
        (
            *("sudoers", "sudoers.d/", "sshd_config", "sshd_config.d/", "pam.d/", "*.pam"),
            *("login.defs", "krb5.conf", "sssd.conf", "nsswitch.conf", "polkit-1/"),
            *("etc/passwd", "etc/shadow", "etc/group", "etc/gshadow", "security/access.conf"),
        ),
        always=True,
    ),
    PathRule(
        "git.repository-settings",
        "repository settings as code: branch protection, collaborators, teams, rulesets",
        (".github/settings.yml", ".github/settings.yaml", ".github/rulesets/"),
        always=True,
    ),
    PathRule(
        "path.policy-data",
        "data an authorization policy engine reads (OPA bundles and policy data files)",
        (
            *("opa/", "rego/", "**/policy/**/data.json", "**/policies/**/data.json"),
            *("**/policy/**/data.yaml", "**/policies/**/data.yaml", ".manifest"),
        ),
        always=True,
    ),
)


def widened(rule: ContentRule) -> ContentRule:
    """``rule`` with ``@2``'s narrowed and added alternatives and hints, or unchanged."""
    for old, new in NARROWED.get(rule.id, ()):
        if rule.pattern.count(old) != 1:
            raise ValueError(f"{rule.id}: @1 alternative not found once: {old}")
        rule = replace(rule, pattern=rule.pattern.replace(old, new))
    extra = WIDENED.get(rule.id)
    if extra is None:
        return rule
    pattern, hints = extra
    merged = tuple(dict.fromkeys((*rule.hints, *hints))) if rule.hints else ()
    return replace(rule, pattern=rule.pattern + pattern, hints=merged)
