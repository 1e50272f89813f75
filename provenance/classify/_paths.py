"""Built-in path rules and file kinds, as gitignore-style globs (``pathspec``'s dialect).

Globs are matched against case-folded, normalised spellings of a path (see ``_normalize``),
so they are written in lower case. A glob without a slash matches a file or directory name
at any depth. Identity words are matched as whole words of a name (delimited by ``.``, ``_``,
``-`` or an end), so ``auth`` matches ``auth.py``, ``use_auth.ts`` and ``oauth-callback`` via
its own rule, but not ``author.py`` or ``authority.ts``.
"""

from __future__ import annotations

from provenance.classify._model import PathRule, Strength


def words(*stems: str) -> tuple[str, ...]:
    """Globs matching each stem as a whole word of some path component."""
    out: list[str] = []
    for s in stems:
        out += [s, f"{s}[._-]*", f"*[._-]{s}", f"*[._-]{s}[._-]*"]
    return tuple(out)


def prefixes(*stems: str) -> tuple[str, ...]:
    """Globs matching each stem at the start of a word of some path component."""
    out: list[str] = []
    for s in stems:
        out += [f"{s}*", f"*[._-]{s}*"]
    return tuple(out)


def anywhere(*stems: str) -> tuple[str, ...]:
    """Globs matching each stem anywhere in a component (stems that are never innocent)."""
    return tuple(f"*{s}*" for s in stems)


_ANSIBLE_ROLE_DIRS = tuple(
    f"**/roles/*/{d}/**"
    for d in ("tasks", "handlers", "templates", "files", "vars", "defaults", "meta", "molecule")
)

PATH_RULES: tuple[PathRule, ...] = (
    PathRule(
        "meta.provenance",
        "this tool's own policy and evidence",
        (".provenance",),
        always=True,
        unexcludable=True,
    ),
    PathRule(
        "git.gitattributes",
        ".gitattributes can hide diffs or change how identity files are stored",
        (".gitattributes",),
        always=True,
        unexcludable=True,
    ),
    PathRule("git.gitmodules", "submodule URLs and paths", (".gitmodules",), always=True),
    PathRule("git.codeowners", "who must review what", ("codeowners",), always=True),
    PathRule(
        "path.key-material",
        "private keys, certificates, keystores and credential files",
        (
            *("*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.p8", "*.ppk"),
            *("*.gpg", "*.pgp", "*.kdbx", "*.keytab", "*.jwk", "*.jwks", "*.crt", "*.cer"),
            *("*.der", "*.csr", "*.pub", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*"),
            *("authorized_keys*", "known_hosts", ".netrc", "_netrc", ".pypirc", ".npmrc"),
            *(".yarnrc", ".yarnrc.yml", ".htpasswd", ".htaccess", ".dockercfg", "kubeconfig"),
            *("*.kubeconfig", ".kube", ".docker/config.json", ".git-credentials", ".sops.yaml"),
            *("*.sops.*", "secring.*", ".vault-token", "*.tfstate", "*.tfstate.backup"),
        ),
        always=True,
    ),
    PathRule(
        "path.policy-as-code",
        "authorization policy languages (Rego, Cedar, Sentinel, Polar, OpenFGA)",
        ("*.rego", "*.cedar", "*.cedarschema", "*.sentinel", "*.polar", "*.fga"),
        always=True,
    ),
    PathRule(
        "path.authn",
        "authentication: sign-in, sign-up, auth modules and identity providers",
        (
            *words("auth", "authn", "auth0", "login", "logins", "logout", "signin", "sign_in"),
            *words("signout", "sign_out", "signup", "sign_up", "log_in", "log_out", "passport"),
            *words("devise", "warden", "whoami", "idp", "identity", "identities"),
            *prefixes("authenticat", "reauth", "unauth"),
            *anywhere("allauth", "omniauth", "nextauth", "better_auth"),
        ),
    ),
    PathRule(
        "path.mfa",
        "multi-factor authentication, TOTP, WebAuthn and passkeys",
        (
            *words("mfa", "2fa", "two_factor", "twofactor", "multi_factor", "totp", "hotp"),
            *words("otp", "fido", "fido2", "u2f", "recovery_codes", "backup_codes"),
            *anywhere("webauthn", "passkey"),
        ),
    ),
    PathRule(
        "path.password",
        "passwords and password hashing",
        (*anywhere("password", "passwd", "bcrypt", "argon2"), *words("hasher", "hashers")),
    ),
    PathRule(
        "path.credentials",
        "secrets, tokens, API keys and key management",
        (
            *prefixes("credential"),
            *words("secret", "secrets", "vault", "kms", "keychain", "keystore", "keyring"),
            *words("api_key", "api_keys", "apikey", "apikeys", "api_token", "api_tokens"),
            *words("access_token", "access_tokens", "refresh_token", "refresh_tokens"),
            *words("personal_access_token", "personal_access_tokens", "deploy_key"),
            *words("deploy_keys", "ssh_key", "ssh_keys", "signing_key", "signing_keys"),
            *words("private_key", "private_keys", "client_secret", "bearer", "jose"),
            *anywhere("jwt", "jwk"),
        ),
    ),
    PathRule(
        "path.sso",
        "single sign-on: OAuth, OIDC, SAML, LDAP, SCIM and identity providers",
        (
            *anywhere("oauth", "oidc", "openid", "saml", "ldap", "scim", "keycloak"),
            *words("sso", "kerberos", "okta", "cognito", "clerk"),
        ),
    ),
    PathRule(
        "path.authz",
        "authorization: permissions, ACLs, RBAC/ABAC, IAM and service accounts",
        (
            *anywhere("authoriz", "authoris", "permission", "rbac", "casbin", "cancan"),
            *anywhere("pundit", "clusterrole", "rolebinding", "serviceaccount"),
            *words("authz", "perm", "perms", "acl", "acls", "abac", "privilege", "privileges"),
            *words("entitlement", "entitlements", "ability", "abilities", "iam"),
            *words("service_account", "service_accounts", "access_control", "accesscontrol"),
        ),
    ),
    PathRule(
        "path.roles",
        "role definitions and role assignment",
        words("role", "roles", "user_roles", "user_role"),
        unless=_ANSIBLE_ROLE_DIRS,
    ),
    PathRule(
        "path.lifecycle",
        "user and org lifecycle: invitations, verification, impersonation, deprovisioning",
        (
            *prefixes("invit"),
            *anywhere("impersonat", "deprovision", "offboard"),
            *words("superuser", "superusers", "verify_email", "email_verification"),
            *words("email_confirmation", "confirm_email", "account_deletion", "delete_account"),
            *words("account_activation", "magic_link", "magic_links"),
        ),
    ),
    PathRule(
        "path.security",
        "security configuration and CSRF protection",
        words("security", "csrf", "xsrf"),
    ),
    *(
        PathRule(
            f"path.hint.{concept}",
            "a name that often, but not always, holds identity code (counted with content)",
            globs,
            strength=Strength.WEAK,
            concept=concept,
        )
        for concept, globs in (
            (
                "user",
                words(
                    *("user", "users", "account", "accounts", "member", "members"),
                    *("membership", "memberships", "principal", "principals"),
                ),
            ),
            (
                "org",
                words(
                    *("org", "orgs", "organization", "organizations", "tenant", "tenants"),
                    *("team", "teams", "workspace", "workspaces"),
                ),
            ),
            ("admin", words("admin", "admins", "staff")),
            ("session", words("session", "sessions")),
            ("cookie", words("cookie", "cookies")),
            ("middleware", words("middleware", "middlewares", "guard", "guards")),
            ("role", words("policy", "policies", "scope", "scopes", "grants", "claims", "access")),
            ("signup", words("registration", "register", "onboarding")),
            ("lifecycle", (*words("verification"), *prefixes("provision", "deactivat"))),
            ("secret", words("keys")),
            ("cors", words("cors")),
        )
    ),
)

#: File kinds decide which content rules run. A path may have several kinds.
KIND_GLOBS: dict[str, tuple[str, ...]] = {
    "inert": (
        *("*.md", "*.markdown", "*.mdown", "*.rst", "*.adoc", "*.asciidoc", "*.textile"),
        *("*.rdoc", "*.pod", "*.po", "*.pot", "*.mo", "*.xlf", "*.xliff", "*.css", "*.scss"),
        *("*.sass", "*.less", "*.styl", "*.svg", "*.png", "*.jpg", "*.jpeg", "*.gif"),
        *("*.webp", "*.avif", "*.ico", "*.bmp", "*.tif", "*.tiff", "*.psd", "*.woff"),
        *("*.woff2", "*.ttf", "*.eot", "*.otf", "*.mp3", "*.mp4", "*.wav", "*.ogg", "*.webm"),
        *("*.mov", "*.pdf", "*.snap", "*.map", "*.txt", "license", "licence", "copying"),
        *("notice", "authors", "contributors", ".mailmap", "mkdocs.yml", ".readthedocs.y*ml"),
    ),
    #: Styling and media: inert even in an identity directory (an icon in ``icons/auth/``).
    "decorative": (
        *("*.css", "*.scss", "*.sass", "*.less", "*.styl", "*.svg", "*.png", "*.jpg"),
        *("*.jpeg", "*.gif", "*.webp", "*.avif", "*.ico", "*.bmp", "*.tif", "*.tiff", "*.psd"),
        *("*.woff", "*.woff2", "*.ttf", "*.eot", "*.otf", "*.mp3", "*.mp4", "*.wav", "*.ogg"),
        *("*.webm", "*.mov", "*.pdf"),
    ),
    #: Folders of translations and snapshots: only catalogue files are inert there.
    "catalog-dir": (
        *("locale/", "locales/", "i18n/", "l10n/", "translations/", "lang/", "__snapshots__/"),
    ),
    #: Translation catalogues and snapshot files that are inert inside a ``catalog-dir``.
    "catalog": (
        *("*.arb", "*.resx", "*.strings", "*.stringsdict", "*.snap.new", "*.pending-snap"),
        "*.ambr",
    ),
    "manifest": (
        *("requirements*.txt", "requirements*.in", "**/requirements/*.txt", "constraints*.txt"),
        *("**/requirements/*.in", "pyproject.toml", "pipfile", "pipfile.lock", "poetry.lock"),
        *("uv.lock", "pdm.lock", "setup.py", "setup.cfg", "environment.yml", "package.json"),
        *("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "go.mod"),
        *("go.sum", "go.work", "gemfile", "gemfile.lock", "*.gemspec", "pom.xml", "bun.lock"),
        *("build.gradle", "build.gradle.kts", "gradle.lockfile", "libs.versions.toml"),
        *("cargo.toml", "cargo.lock", "composer.json", "composer.lock", "mix.exs", "mix.lock"),
        *("*.csproj", "packages.config", "directory.packages.props", "deno.json"),
    ),
    "python": ("*.py", "*.pyi", "*.pyw", "*.pyx"),
    "js": (
        *("*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.mts", "*.cts", "*.vue"),
        *("*.svelte", "*.astro"),
    ),
    "go": ("*.go",),
    "jvm": ("*.java", "*.kt", "*.kts", "*.scala", "*.groovy", "*.gradle", "jenkinsfile*"),
    "ruby": ("*.rb", "*.rake", "*.ru", "*.gemspec", "gemfile", "rakefile", "*.erb"),
    "php": ("*.php",),
    "code": (
        *("*.cs", "*.rs", "*.ex", "*.exs", "*.erl", "*.swift", "*.m", "*.mm", "*.c", "*.h"),
        *("*.cc", "*.cpp", "*.hpp", "*.lua", "*.pl", "*.pm", "*.r", "*.dart", "*.fs"),
        *("*.clj", "*.hs", "*.ml", "*.zig", "*.prisma", "*.graphql", "*.gql", "*.proto"),
    ),
    "shell": (
        *("*.sh", "*.bash", "*.zsh", "*.fish", "*.ps1", "*.bat", "*.cmd", "makefile", "*.mk"),
        *("justfile", "dockerfile", "dockerfile.*", "*.dockerfile", "containerfile"),
        "procfile",
    ),
    "sql": ("*.sql",),
    "template": (
        *("*.html", "*.htm", "*.jinja", "*.jinja2", "*.j2", "*.erb", "*.hbs", "*.handlebars"),
        *("*.ejs", "*.twig", "*.haml", "*.slim", "*.liquid", "*.njk", "*.mustache", "*.pug"),
        *("*.jade", "*.tpl", "*.gohtml", "*.tmpl", "*.cshtml", "*.razor"),
    ),
    "config": (
        *("*.yml", "*.yaml", "*.json", "*.json5", "*.jsonc", "*.toml", "*.ini", "*.cfg"),
        *("*.conf", "*.config", "*.properties", "*.xml", "*.plist", "*.hcl", "*.tf"),
        *("*.tfvars", "*.nomad", "*.env", ".env", ".env.*", ".envrc", "*.cnf", "caddyfile"),
        *("*.service", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pypirc", ".netrc"),
    ),
    "ci": (
        *(".github/workflows/**", ".github/actions/**", "action.yml", "action.yaml"),
        *(".gitlab-ci.yml", ".gitlab-ci.yaml", ".gitlab/**", ".circleci/**", "jenkinsfile*"),
        *("azure-pipelines*.yml", "bitbucket-pipelines.yml", ".buildkite/**", ".travis.yml"),
        *(".drone.yml", "cloudbuild*.yaml", "cloudbuild*.yml", "buildspec*.yml"),
        *(".woodpecker/**", ".woodpecker.yml"),
    ),
    "data": ("*.csv", "*.tsv"),
    #: Plain text: inert for content rules, but the format data files take (allow lists).
    "text": ("*.txt",),
    "test": (
        *("test/", "tests/", "__tests__/", "__test__/", "spec/", "specs/", "e2e/", "cypress/"),
        *("testdata/", "test_*", "*_test.*", "*_tests.*", "*.test.*", "*.spec.*", "*_spec.rb"),
        "conftest.py",
    ),
}
