"""Built-in content rules for source code: authorization, ownership, lifecycle and imports.

Same conventions as ``_rules_authn``: WORDS view, ambiguous words are WEAK with a concept.
"""

from __future__ import annotations

from provenance.classify._model import ContentRule, Strength, View
from provenance.classify._rules_authn import CODE, CODE_CONF

S, M, W = Strength.STRONG, Strength.MEDIUM, Strength.WEAK

_IDENTITY_MODULE = (
    r"(?:auth(?:n|z|0|ed|s)?\d*|authenticat\w*|(?:un|re|pre|de)?authori[sz](?:e|ed|es|ing|ation"
    r"|ations|er|ers)|jwt\w*|o auth\w*|oauth\w*|sso|saml\w*|oidc|ldap\w*"
    r"|rbac|acl|acls|permissions?|perms|roles?|security|guards?|mfa|totp|otp\w*|webauthn"
    r"|passkeys?|scim|credentials?|secrets|passwords?|hashers|csrf|allauth|omniauth|devise"
    r"|warden|doorkeeper|pundit|rodauth|sorcery|authlogic|rolify|passport\w*|lucia|clerk|casl"
    r"|knox|simple ?jwt|jose|bcrypt\w*|argon2\w*|passlib|pwdlib|itsdangerous|keycloak|okta"
    r"|cognito|msal|casbin|guardian|next auth|better auth|iron session|express session"
    r"|cookie session|social (?:auth|django|core)|flask (?:login|security|principal|httpauth))"
)

AUTHZ_RULES: tuple[ContentRule, ...] = (
    ContentRule(
        "code.authz-check",
        "permission checks, guards, policies and security configuration",
        r"\b(?:has ?perms?|has ?permissions?|has ?object ?permission|check ?(?:object )?"
        r"permissions?|require ?permissions?|permissions? ?required|permission ?classes"
        r"|permission ?denied|permission ?error|access ?denied|is ?authenticated|is ?anonymous"
        r"|is ?superuser|is ?staff|is ?admin|is ?super ?admin|is ?site ?admin|has ?role"
        r"|has ?any ?role|has ?authority|has ?any ?authority|granted ?authorit\w*|user ?passes"
        r" ?test|staff ?member ?required|superuser ?required|admin ?required|admin ?only"
        r"|roles ?required|roles ?accepted|can ?activate|policy ?scope|load ?and ?authorize"
        r" ?resource|cancan\w*|casbin|enforcer|rbac|abac|access ?control ?lists?"
        r"|access ?control(?! (?:allow|expose|max|request))|permit ?all|deny ?all|roles ?allowed"
        r"|authentication ?principal|security ?context ?holder|security ?filter ?chain"
        r"|http ?security|web ?security|method ?security|user ?details(?: ?service)?"
        r"|allow ?any|is ?owner ?or\w*|model ?permissions|object ?permissions"
        r"|row ?level ?security|protected ?procedure|admin ?procedure|has ?scopes?"
        r"|require ?scopes?|check ?scopes?|\w+ permissions\.(?:manage|view|edit|delete|add"
        r"|change) \w+)\b|\bpermissions\s*=\s*[\[(]",
        CODE_CONF,
        hints=(
            "perm",
            "denied",
            "auth",
            "anonymous",
            "superuser",
            "staff",
            "admin",
            "role",
            "passes",
            "activate",
            "policy",
            "cancan",
            "casbin",
            "enforc",
            "bac",
            "access",
            "permit",
            "deny",
            "principal",
            "security",
            "details",
            "allow",
            "owner",
            "procedure",
            "scope",
        ),
    ),
    ContentRule(
        "code.role-check",
        "comparing, granting or requiring roles",
        r"\broles?\s*(?:===?|!==?|\bin\b|\bnot in\b)|\broles?\s?\.\s?(?:includes|has|contains"
        r"|some|every|index of|count|any|all)\b|\b(?:has|add|remove|assign|grant|revoke|check"
        r"|require|set|update|change) ?(?:user )?roles?\b|\broles? (?:required|guard|based"
        r"|assignment|binding|mapping|hierarchy|permissions?)\b|\b(?:user|member|membership"
        r"|account|claims|ctx|current user|session|principal|token|me|profile|invite)\.roles?\b",
        CODE_CONF,
        hints=("role",),
    ),
    ContentRule(
        "code.role-word",
        "the words role, privilege, permission, scope, grant",
        r"\b(?:roles?|privileges?|permissions?|scopes?|grants?)\b",
        CODE,
        strength=W,
        concept="role",
        hints=("role", "privilege", "permission", "scope", "grant"),
    ),
    ContentRule(
        "code.admin-word",
        "the words admin, superuser, staff, moderator",
        r"\b(?:admins?|superusers?|staff|moderators?)\b",
        CODE,
        strength=W,
        concept="admin",
        hints=("admin", "superuser", "staff", "moderator"),
    ),
    ContentRule(
        "code.auth-decorator",
        "decorators and annotations that guard code (@login_required, @UseGuards, @PreAuthorize)",
        r"^\s*@[\w .]*?\b(?:login|logout|auth(?:n|z|ed|s)?|o auth\w*|permissions?|perms?|roles?"
        r"|admin required|admin only|superuser|staff|csrf\w*|jwt|token required|scopes?"
        r"|requires? (?:auth(?:n|z|ed)?|login|user|permissions?|roles?|scopes?|admin)|guards?"
        r"|use guards|public|allow anonymous|anonymous|secured|pre authorize|post authorize"
        r"|roles allowed|permit all|deny all|enable (?:web |method |global method )?security"
        r"|authenticat\w*|authoriz\w*|sensitive (?:post |variables )?parameters?"
        r"|user passes test|has role|protected|skip auth|no auth)\b",
        CODE,
        hints=("@",),
    ),
    ContentRule(
        "code.ownership",
        "object ownership and tenant checks against the current principal",
        r"\b(?:owner|owner id|user id|user\.id|created by|author id|uid|account id|tenant id"
        r"|org id|organization id)\s*(?:===?|!==?)|(?:===?|!==?)\s*(?:self\.)?(?:request\.user"
        r"|req\.user|current user|ctx\.user|context\.user|g\.user|session\.user)\b"
        r"|\b(?:owner|user|author|created by|members?|org|organization|tenant|team|workspace"
        r"|account|company)(?: id)?\s*[=:]\s*(?:self\.)?(?:request\.user|req\.user"
        r"|current user|ctx\.user|g\.user|session\.user)\b",
        CODE,
        strength=M,
        hints=("owner", "user", "uid", "author", "created", "account", "tenant", "org"),
    ),
    ContentRule(
        "code.credential-compare",
        "secrets compared with == (timing-unsafe, often an auth check)",
        r"\b(?:secret|signature|password|passwd|otp|hmac|digest|api key)\b['\"\]\)]*\s*"
        r"(?:===?|!==?)",
        CODE,
        strength=M,
        hints=("secret", "signature", "pass", "otp", "hmac", "digest", "key"),
    ),
    ContentRule(
        "code.current-user",
        "the authenticated principal (request.user, current_user, claims)",
        r"\b(?:request\.user|req\.user|current ?user|ctx\.user|ctx\.state\.user|context\.user"
        r"|g\.user|get user model|current ?identity|principal|claims|who ?am ?i|logged ?in ?user"
        r"|signed ?in ?user|auth\.user)\b",
        CODE,
        strength=W,
        concept="user",
        hints=("user", "principal", "claims", "identity", "whoami", "who_am"),
    ),
    ContentRule(
        "code.current-user-dependency",
        "dependencies and helpers that require an authenticated user",
        r"\b(?:get current (?:active )?(?:super)?user|current active user|require user"
        r"|requires? login|ensure logged in|logged in required|authenticated user"
        r"|login manager|user loader)\b",
        CODE,
        hints=("current", "require", "logged", "authenticated", "login", "loader"),
    ),
    ContentRule(
        "code.http-auth-status",
        "401/403 responses and permission errors",
        r"\b(?:status ?unauthorized|status ?forbidden|http 40[13]\w*|forbidden ?(?:exception"
        r"|error|response)|response ?forbidden|permission ?denied|access ?denied|not ?authenticated"
        r"|authentication ?failed|codes\.unauthenticated|codes\.permission denied"
        r"|http ?forbidden|http ?unauthorized)\b",
        CODE,
        strength=M,
        hints=("unauthori", "forbidden", "denied", "401", "403", "authenticat"),
    ),
    ContentRule(
        "code.http-auth-status-code",
        "numeric 401/403 status codes",
        r"\b(?:abort|status|sendStatus|WriteHeader|AbortWithStatus\w*|HttpResponse\w*|Response"
        r"|JsonResponse|HTTPException|HttpException|error)\s*\(\s*(?:(?:status_code|status)"
        r"\s*=\s*)?40[13]\b|\bstatus(?:_code|Code)?\s*(?:==|=|:)\s*40[13]\b",
        CODE,
        view=View.RAW,
        strength=M,
        hints=("401", "403"),
    ),
    ContentRule(
        "code.signing",
        "HMAC, constant-time comparison and signature verification",
        r"\b(?:hmac\w*|compare ?digest|constant ?time ?compare|timing ?safe ?equal"
        r"|secure ?compare|verify ?(?:webhook|signature|hmac)|signature ?verif\w*"
        r"|webhook ?signature|signing\.(?:dumps|loads)|timestamp ?signer"
        r"|url ?safe ?timed ?serializer|itsdangerous)\b",
        CODE,
        hints=(
            "hmac",
            "digest",
            "constant",
            "timing",
            "compare",
            "verif",
            "signature",
            "signing",
            "signer",
            "serializer",
            "itsdangerous",
        ),
    ),
    ContentRule(
        "code.random-secret",
        "generating random tokens, keys and salts",
        r"\b(?:token ?(?:urlsafe|hex|bytes)|secrets\.(?:choice|randbits|system random)"
        r"|random ?bytes|get ?random ?values|generate ?(?:api ?key|secret|password|otp|nonce"
        r"|salt))\b",
        CODE,
        strength=W,
        concept="secret",
        hints=("token", "secrets.", "random", "generate"),
    ),
    ContentRule(
        "code.lifecycle",
        "invitations, verification, impersonation, membership and account lifecycle",
        r"\b(?:invit(?:e|es|ed|ing|ation|ations|ee|ees|er)|accept ?invit\w*|verify ?email"
        r"|email ?verif\w*|email ?verified|email ?confirm\w*|confirm ?email|(?:confirmation"
        r"|verification) ?(?:token|email|code|link|sent|key|status)|impersonat\w*"
        r"|deactivat\w* ?(?:user|account|member)s?|delete ?(?:user|account|member|me)s?"
        r"|(?:user|account|member) ?(?:delet|remov|deactivat|suspen|ban|lock)\w*"
        r"|remove ?(?:user|member)s?|deprovision\w*|provision ?(?:user|account)s?|offboard\w*"
        r"|create ?(?:super)?user|register ?(?:user|account)|user ?registration|sign ?up"
        r" ?(?:user|form|view|flow|serializer)|ban ?user|suspend ?(?:user|account)"
        r"|(?:un)?lock ?(?:user|account)|account ?(?:locked|lockout|recovery|activation)"
        r"|activate ?(?:user|account)|transfer ?ownership|memberships?|add ?members?"
        r"|(?:join|leave) ?(?:org|team|workspace))\b",
        CODE,
        strength=M,
        hints=(
            "invit",
            "verif",
            "confirm",
            "imperson",
            "deactiv",
            "delet",
            "remov",
            "provision",
            "offboard",
            "user",
            "regist",
            "sign",
            "ban",
            "suspend",
            "lock",
            "account",
            "activat",
            "ownership",
            "member",
            "join",
            "leave",
        ),
    ),
    ContentRule(
        "code.capability",
        "privilege flags and capability phrases (is_support = BooleanField, can manage)",
        r"\b(?:is|can|has) [a-z]+(?: [a-z]+)? = models\.boolean ?field\b|\bcan (?:view|edit"
        r"|manage|access|delete|approve|invite|impersonate|administer)\b",
        CODE,
        strength=W,
        concept="role",
        hints=("boolean", "can"),
    ),
    ContentRule(
        "code.account-state",
        "account state flags (is_active, is_verified, last_login)",
        r"\b(?:is ?active|is ?verified|is ?locked|is ?banned|email ?verified|date ?joined"
        r"|last ?login)\b",
        CODE,
        strength=W,
        concept="user",
        hints=("active", "verified", "locked", "banned", "joined", "last"),
    ),
    ContentRule(
        "code.identity-import",
        "importing an auth library or an identity module",
        r"^\s*(?:from|import)\s+[\w. ]{0,200}?\b" + _IDENTITY_MODULE + r"\b"
        r"|^\s*(?:(?:import|export)\b.{0,300}?\bfrom\s*|(?:const|let|var|import)\b.{0,300}?"
        r"\brequire\s*\(\s*"
        r"|import\s*\(\s*|import\s+|require(?: relative)?\s+)['\"][^'\"\n]{0,200}?\b"
        + _IDENTITY_MODULE
        + r"\b|^\s*(?:import\s+)?(?:\w+\s+)?\"[\w./ -]{0,200}?\b"
        + _IDENTITY_MODULE
        + r"\b[\w./ -]{0,200}\"\s*$",
        frozenset({"python", "js", "go", "jvm", "ruby", "php"}),
        hints=("import", "export", "require", '"'),
    ),
)
