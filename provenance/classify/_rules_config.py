"""Built-in content rules for configuration, CI, infrastructure, manifests and key material."""

from __future__ import annotations

from provenance.classify._model import ContentRule, View
from provenance.classify._rules_authn import CODE, CONF

_CONF_SHELL = CONF | frozenset({"shell", "other"})
_EVERYTHING = CODE | CONF | frozenset({"manifest", "inert", "data"})

#: Auth libraries by package name, across ecosystems (matched on the lower-cased manifest view).
AUTH_LIBRARIES: tuple[str, ...] = (
    # Python
    r"django-allauth", r"authlib", r"python-jose", r"pyjwt", r"jwcrypto", r"josepy", r"passlib",
    r"pwdlib", r"argon2-cffi", r"flask-login", r"flask-jwt-extended", r"flask-security(?:-too)?",
    r"flask-httpauth", r"flask-principal", r"flask-dance", r"requests-oauthlib",
    r"social-auth-[\w-]+", r"python-social-auth", r"djangorestframework-simplejwt",
    r"djangorestframework-jwt", r"django-oauth-toolkit", r"dj-rest-auth", r"django-rest-knox",
    r"django-guardian", r"django-otp", r"django-two-factor-auth", r"django-axes",
    r"python3-saml", r"pysaml2", r"djangosaml2", r"django-auth-ldap", r"python-ldap", r"ldap3",
    r"fastapi-users", r"fastapi-login", r"pyotp", r"py_webauthn", r"fido2", r"msal",
    r"google-auth(?:-oauthlib)?", r"python-keycloak", r"mozilla-django-oidc", r"django-cas-ng",
    r"pycasbin", r"oso", r"itsdangerous", r"pyseto", r"firebase-admin",
    # JavaScript / TypeScript
    r"passport(?:-[\w-]+)?", r"next-auth", r"@auth/[\w.-]+", r"@next-auth/[\w.-]+",
    r"jsonwebtoken", r"jwt-decode", r"jwks-rsa", r"express-jwt", r"express-session",
    r"cookie-session", r"bcrypt(?:js)?", r"@node-rs/(?:argon2|bcrypt)", r"oidc-client(?:-ts)?",
    r"openid-client", r"oauth4webapi", r"simple-oauth2", r"keycloak-(?:js|connect)",
    r"@okta/[\w.-]+", r"@auth0/[\w.-]+", r"auth0(?:-js)?", r"@azure/msal-[\w-]+",
    r"@simplewebauthn/[\w-]+", r"otplib", r"speakeasy", r"@nestjs/(?:passport|jwt)",
    r"@casl/[\w-]+", r"casbin", r"accesscontrol", r"lucia", r"@lucia-auth/[\w-]+",
    r"better-auth", r"@clerk/[\w-]+", r"@supabase/(?:auth-[\w-]+|ssr)", r"iron-session", r"csurf",
    r"csrf-csrf", r"samlify", r"@node-saml/[\w-]+", r"ldapjs",
    r"@fastify/(?:jwt|session|secure-session|oauth2|csrf-protection|auth|passport)",
    r"@hapi/(?:bell|cookie|jwt)", r"grant", r"@octokit/auth-[\w-]+",
    r"@aws-sdk/client-cognito-identity-provider", r"amazon-cognito-identity-js",
    r"@aws-amplify/auth",
    # Go
    r"github\.com/(?:golang-jwt|dgrijalva/jwt-go|form3tech-oss/jwt-go|coreos/go-oidc|casbin"
    r"|gorilla/(?:sessions|csrf|securecookie)|go-ldap|crewjam/saml|russellhaering/gosaml2"
    r"|markbates/goth|lestrrat-go/jwx|go-jose|square/go-jose|pquerna/otp|go-webauthn"
    r"|duo-labs/webauthn|ory|zitadel|appleboy/gin-jwt|gin-contrib/sessions|labstack/echo-jwt"
    r"|auth0|openfga|authzed|open-policy-agent|nerzal/gocloak|okta|micahparks/keyfunc"
    r"|alexedwards/scs|volatiletech/authboss|shaj13/go-guardian)[\w./-]*",
    r"golang\.org/x/(?:oauth2|crypto)[\w./-]*", r"gopkg\.in/square/go-jose[\w./-]*",
    # Ruby
    r"devise[\w-]*", r"omniauth[\w-]*", r"pundit", r"cancancan", r"cancan", r"doorkeeper[\w-]*",
    r"rodauth[\w-]*", r"sorcery", r"clearance", r"authlogic", r"jwt", r"rolify", r"warden",
    r"ruby-saml", r"rotp", r"webauthn", r"knock", r"action_policy", r"two_factor_authentication",
    # JVM
    r"spring-security[\w-]*", r"spring-boot-starter-(?:security|oauth2[\w-]*)",
    r"org\.springframework\.security[\w.]*", r"io\.jsonwebtoken", r"jjwt[\w.-]*", r"java-jwt",
    r"com\.auth0", r"nimbus-jose-jwt", r"com\.nimbusds", r"keycloak[\w-]*", r"org\.keycloak",
    r"shiro[\w-]*", r"org\.apache\.shiro", r"pac4j[\w-]*", r"org\.pac4j", r"okta[\w-]*",
    r"com\.okta", r"scribejava[\w-]*",
    # PHP
    r"laravel/(?:sanctum|passport|socialite|fortify|breeze|jetstream)", r"tymon/jwt-auth",
    r"firebase/php-jwt", r"spatie/laravel-permission", r"league/oauth2-(?:server|client)",
)  # fmt: skip

_LIBRARY_WORDS = (
    r"oauth\d?|oidc|openid|saml2?|jwt|jwk|jwks|jose|ldap\d?|webauthn|passkeys?|totp|otp|scim"
    r"|kerberos|keycloak|casbin|auth|authn|authz|auth0|authlib|bcrypt|argon2|passport|csrf|rbac"
    r"|sso|mfa|2fa"
)

CONFIG_RULES: tuple[ContentRule, ...] = (
    ContentRule(
        "config.identity-key",
        "configuration keys naming secrets, credentials, auth, sessions, roles or scopes",
        r"^\s*(?:-\s*)?[\"']?[\w .\[\]/]{0,80}?\b(?:secrets?|passwords?|passwd|passphrase|pwd"
        r"|(?<!max )(?<!prompt )(?<!completion )tokens?|api ?keys?|apikey|private ?keys?"
        r"|client ?ids?|client ?secrets?|credentials?|creds|auth(?:n|z|0|ed|s)?\d*|o ?auth\w*"
        r"|authenticat\w*|(?:un|re|pre|de)?authori[sz](?:e|ed|es|ing|ation|ations|er|ers)|oidc"
        r"|saml\w*|ldap\w*|jwt\w*|jwks?\w*|sessions?|cookies?|csrf|xsrf|issuer|audiences?|scopes?"
        r"|roles?|permissions?|sso|mfa|totp|otp|htpasswd|access ?keys?|secret ?keys?|signing ?keys?"
        r"|service ?accounts?|identity|iam|principals?|allowed ?users|policies|policy ?arn"
        r"|kms ?key\w*|tls ?key|ssl ?key)\b[\w .\[\]/]{0,80}?[\"']?\s*[:=]"
        r"|^\s*(?:-\s*)?[\"']?security[\"']?\s*:|^\s*(?:variable|output|secret)\s+\"[\w ]{0,60}?"
        r"\b(?:passwords?|secrets?|tokens?|api ?keys?|private ?keys?|credentials?)\b",
        _CONF_SHELL,
    ),
    ContentRule(
        "config.secret-reference",
        "environment and CI variables that carry secrets (${DB_PASSWORD}, ${{ secrets.X }})",
        r"\$\{?\{?\s*(?:env\.|vars\.)?[A-Z0-9_]*(?:PASSWORD|PASSWD|TOKEN|SECRET|API_KEY|APIKEY"
        r"|PRIVATE_KEY|CREDENTIAL|ACCESS_KEY|AUTH)[A-Z0-9_]*|\$\{\{\s*secrets\.\w+",
        _CONF_SHELL,
        view=View.RAW,
        hints=("$",),
    ),
    ContentRule(
        "ci.permissions",
        "workflow token permissions, OIDC id-token, secrets and privileged triggers",
        r"^\s*(?:permissions|id-token|id_tokens|secrets|pull_request_target|workflow_run)\s*:"
        r"|^\s*(?:actions|attestations|checks|contents|deployments|discussions|id-token|issues"
        r"|packages|pages|pull-requests|repository-projects|security-events|statuses|models)"
        r"\s*:\s*(?:read|write|none)\b|\bpermissions\s*:\s*(?:read-all|write-all)"
        r"|^\s*on\s*:.*\bpull_request_target\b",
        frozenset({"ci"}),
        view=View.RAW,
    ),
    ContentRule(
        "ci.credentials",
        "CI credentials: secrets, job tokens, cloud login actions, registry logins",
        r"\$\{\{\s*secrets\.\w+|\bsecrets\s*:\s*inherit\b|\bGITHUB_TOKEN\b|\bCI_JOB_(?:TOKEN|JWT\w*)"
        r"|\bwithCredentials\b|\bcredentials\s*\(|\bcredentialsId\b|aws-actions/configure-aws"
        r"-credentials|google-github-actions/auth|azure/login|hashicorp/vault-action"
        r"|docker/login-action|\brole-to-assume\b|\bworkload_identity_provider\b"
        r"|\bservice_account\b|\bpersist-credentials\b|\b(?:docker|helm|npm|gh|az|gcloud|aws)"
        r"\s+(?:login|auth)\b|^\s*vault\s*:",
        frozenset({"ci"}),
        view=View.RAW,
    ),
    ContentRule(
        "iac.iam-resource",
        "Terraform/CloudFormation IAM, identity, secret and KMS resources; IAM ARNs and roles",
        r"\b(?:resource|data)\s+\"(?:aws_iam_\w+|aws_cognito_\w+|aws_secretsmanager_\w+|aws_kms_\w+"
        r"|aws_ssoadmin_\w+|aws_identitystore_\w+|aws_organizations_policy\w*"
        r"|aws_lakeformation_permissions|google_\w*iam\w*|google_service_account\w*"
        r"|google_identity_platform\w*|google_kms_\w+|google_secret_manager_\w+|azurerm_role_\w+"
        r"|azurerm_user_assigned_identity|azurerm_key_vault\w*|azuread_\w+"
        r"|kubernetes_(?:cluster_)?role(?:_binding)?(?:_v1)?|kubernetes_service_account\w*"
        r"|kubernetes_secret\w*|vault_\w+|github_team\w*|github_repository_collaborator\w*"
        r"|github_branch_protection\w*|github_actions_\w*secret\w*|github_membership|okta_\w+"
        r"|auth0_\w+|keycloak_\w+|tls_private_key|random_password)\"|\bAWS::(?:IAM|Cognito"
        r"|SecretsManager|KMS|SSO|IdentityStore|Organizations)::\w+|\barn:aws[\w-]*:(?:iam|sts)::"
        r"|\"roles/[\w.]+\"|\bsts:AssumeRole\w*",
        CONF,
        view=View.RAW,
    ),
    ContentRule(
        "iac.policy-statement",
        "IAM policy statements and role attributes (actions, principals, role_arn, members)",
        r"^\s*(?:-\s*)?[\"']?(?:Effect|Action|NotAction|Principal|NotPrincipal"
        r"|AssumeRolePolicyDocument|PolicyDocument|ManagedPolicyArns|PolicyName|Policies|RoleName"
        r"|RoleArn|PermissionsBoundary|Condition)[\"']?\s*:|^\s*(?:actions|not_actions|principals"
        r"|identifiers|assume_role_policy|policy_arn|managed_policy_arns|role_arn"
        r"|role_definition_name|role_definition_id|principal_id|principal_type"
        r"|permissions_boundary|inline_policy|iam_instance_profile|service_account_email"
        r"|service_account|members?|role)\s*=",
        CONF,
        view=View.RAW,
    ),
    ContentRule(
        "k8s.rbac",
        "Kubernetes RBAC kinds, service accounts, secrets and their references",
        r"^\s*kind:\s*[\"']?(?:Role|ClusterRole|RoleBinding|ClusterRoleBinding|ServiceAccount"
        r"|Secret|SealedSecret|ExternalSecret|SecretStore|ClusterSecretStore|SecretProviderClass"
        r"|CertificateSigningRequest|TokenRequest|TokenReview|SubjectAccessReview"
        r"|AuthorizationPolicy|RequestAuthentication|PeerAuthentication)\b"
        r"|rbac\.authorization\.k8s\.io|^\s*(?:-\s*)?(?:verbs|apiGroups|roleRef|subjects"
        r"|aggregationRule|serviceAccountName|serviceAccount|automountServiceAccountToken"
        r"|imagePullSecrets|secretKeyRef|secretRef|secretName|secretProviderClass)\s*:",
        CONF,
        view=View.RAW,
    ),
    ContentRule(
        "deps.auth-library",
        "a dependency line naming an authentication or authorization library",
        r"(?<![\w.@-])(?:" + "|".join(AUTH_LIBRARIES) + r")(?![\w-])"
        r"|(?<![a-z0-9])(?:" + _LIBRARY_WORDS + r")(?![a-z0-9])",
        frozenset({"manifest"}),
        view=View.MANIFEST,
    ),
    ContentRule(
        "secret.material",
        "private keys and well-known credential formats (AWS, GitHub, GitLab, Slack, npm, PyPI)",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\bAKIA[0-9A-Z]{16}\b"
        r"|\bgh[pousr]_[A-Za-z0-9]{36,}|\bgithub_pat_[A-Za-z0-9_]{40,}|\bxox[abprs]-[A-Za-z0-9-]{10,}"
        r"|\bglpat-[A-Za-z0-9_-]{20}|\bsk_live_[A-Za-z0-9]{16,}|\bAIza[0-9A-Za-z_-]{35}"
        r"|\bnpm_[A-Za-z0-9]{36}\b|\bpypi-AgE[A-Za-z0-9_-]{50,}",
        _EVERYTHING,
        view=View.RAW,
        hints=(
            "-----begin",
            "akia",
            "gh",
            "github_pat_",
            "xox",
            "glpat-",
            "sk_live_",
            "aiza",
            "npm_",
            "pypi-age",
        ),
    ),
    ContentRule(
        "secret.ssh-public-key",
        "SSH public keys (granting access when added to authorized_keys or deploy config)",
        r"\b(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)"
        r" AAAA[0-9A-Za-z+/]{20,}",
        CODE | CONF,
        view=View.RAW,
        hints=("aaaa",),
    ),
)
