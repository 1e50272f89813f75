"""Per-rule positive and negative cases for the built-in ruleset ``builtin:identity``.

Both versions must pass them: ``@2`` keeps ``@1``'s rules and only adds stages that need whole
sources, which these hand-made changes do not carry (``test_v2_stages.py`` has those).
"""

from __future__ import annotations

import pytest

from provenance.classify import RULESET_V1, RULESET_V2, Classifier
from provenance.models import FileChange

CLF = Classifier.build(rulesets=[RULESET_V1])
VERSIONS = {v: Classifier.build(rulesets=[v]) for v in (RULESET_V1, RULESET_V2)}


def change(path: str, *added: str, removed: tuple[str, ...] = ()) -> FileChange:
    """A modification of ``path`` adding ``added`` lines."""
    return FileChange(path, path, "M", "100644", "100644", tuple(added), removed)


#: (rule id expected to fire, path, added lines). Weak rules appear with a second concept.
POSITIVE: list[tuple[str, str, tuple[str, ...]]] = [
    # path rules
    ("meta.provenance", ".provenance/policy.toml", ()),
    ("git.gitattributes", "sub/.gitattributes", ()),
    ("git.gitmodules", ".gitmodules", ()),
    ("git.codeowners", ".github/CODEOWNERS", ()),
    ("path.key-material", "deploy/tls/server.key", ()),
    ("path.key-material", "home/.ssh/id_ed25519", ()),
    ("path.key-material", ".npmrc", ()),
    ("path.policy-as-code", "policy/authz.rego", ()),
    ("path.policy-as-code", "policies/docs.cedar", ()),
    ("path.authn", "src/hooks/useAuth.ts", ()),
    ("path.authn", "app/views/SignIn.tsx", ()),
    ("path.authn", "api/oauth_callback/auth-handler.go", ()),
    ("path.mfa", "accounts/two_factor/views.py", ()),
    ("path.mfa", "src/lib/passkeys.ts", ()),
    ("path.password", "accounts/password_reset.py", ()),
    ("path.credentials", "src/api-keys/api-keys.service.ts", ()),
    ("path.credentials", "pkg/jwtutil/sign.go", ()),
    ("path.sso", "sso/saml.py", ()),
    ("path.sso", "integrations/scim/users.py", ()),
    ("path.authz", "core/permissions.py", ()),
    ("path.authz", "deploy/k8s/clusterrolebinding.yaml", ()),
    ("path.roles", "app/models/roles.rb", ()),
    ("path.lifecycle", "teams/invitations.py", ()),
    ("path.lifecycle", "support/impersonation.py", ()),
    ("path.security", "config/WebSecurityConfig.java", ()),
    ("path.security", "app/core/security.py", ()),
    ("path.packaged-code", "vendor/authlib-1.3.0-py3-none-any.whl", ()),
    ("code.dynamic-exec", "lib/boot.py", ("exec(base64.b64decode(PAYLOAD))",)),
    # weak path hints, each with a token (a different concept) in the content
    *(
        (f"path.hint.{concept}", path, ("token = 1",))
        for concept, path in (
            ("user", "users/views.py"),
            ("org", "orgs/service.py"),
            ("admin", "admin/handlers.py"),
            ("session", "web/sessions.py"),
            ("cookie", "web/cookies.py"),
            ("middleware", "server/middleware.py"),
            ("role", "app/policies/post.py"),
            ("signup", "web/registration.py"),
            ("lifecycle", "users_sync/provisioning.py"),
            ("secret", "internal/keys.go"),
            ("cors", "server/cors.py"),
        )
    ),
    # generic code rules (authentication side)
    ("code.authn", "core/helpers.py", ("def check(auth_header):",)),
    ("code.authn", "src/index.ts", ("app.use(authMiddleware);",)),
    ("code.login-flow", "core/forms.py", ("    if failed_logins > 5:",)),
    ("code.login-flow", "web/views.py", ("@login_required",)),
    ("code.login-call", "web/x.py", ("    login(user)", "    token = t")),
    ("code.session-mgmt", "web/x.py", ("request.session.cycle_key()",)),
    ("code.session-word", "web/x.py", ("x = session.get('k')", "token = 1")),
    ("code.cookie-flags", "src/x.ts", ("  httpOnly: true,",)),
    ("code.cookie-flags", "src/x.ts", ("  cookie: { maxAge: 30 * DAY },",)),
    ("code.cookie-word", "src/x.ts", ("setCookie('a', b)", "const token = 1")),
    ("code.csrf", "src/x.js", ("app.use(csrf({ cookie: true }));",)),
    ("template.csrf", "web/form.html", ("{% csrf_token %}", "{{ token }}")),
    ("code.cors-credentials", "app/main.py", ("    allow_credentials=True,",)),
    ("code.jwt", "lib/util.py", ("payload = jwt.decode(raw, key)",)),
    ("code.token-kinds", "lib/util.py", ("refresh_token = body['refresh_token']",)),
    ("code.token-word", "lib/util.py", ("token = x", "session = y")),
    ("code.secrets", "lib/util.py", ("SIGNING_KEY = load()",)),
    ("code.secret-word", "lib/util.py", ("creds = load()", "token = 1")),
    ("code.api-keys", "lib/util.py", ("headers['X-Api-Key'] = k",)),
    ("code.key-hash", "api/models.py", ("    key_hash = models.CharField()",)),
    ("code.password-handling", "lib/util.py", ("user.set_password(raw)",)),
    ("code.password-word", "lib/util.py", ("password = form['p']", "token = 1")),
    ("code.password-hashing", "lib/util.go", ("bcrypt.GenerateFromPassword(pw, 12)",)),
    ("code.mfa", "lib/util.py", ("totp = pyotp.TOTP(secret)",)),
    ("code.sso", "lib/util.py", ("redirect_uri = settings.OIDC_REDIRECT",)),
    # generic code rules (authorization side)
    ("code.authz-check", "lib/util.py", ("if not user.has_perm('x.change'):",)),
    ("code.authz-check", "src/x.ts", ("if (!user.isAdmin) return;",)),
    ("code.authz-check", "gql/m.py", ("        permissions = (AccountPermissions.MANAGE_USERS,)",)),
    ("code.authz-check", "h.go", ('\tif !claims.HasScope("write") {',)),
    ("code.role-check", "svc/billing.py", ("if user.role != 'admin':",)),
    ("code.role-word", "lib/util.py", ("roles = []", "token = 1")),
    ("code.admin-word", "lib/util.py", ("admin = True", "token = 1")),
    ("code.auth-decorator", "src/x.controller.ts", ("  @UseGuards(JwtGuard)",)),
    ("code.auth-decorator", "src/X.java", ("    @PreAuthorize(\"hasRole('A')\")",)),
    ("code.ownership", "svc/docs.go", ("\tif doc.OwnerID != uid {",)),
    ("code.ownership", "orgs/q.py", ("qs.filter(organization=request.user.organization)",)),
    ("code.ownership", "src/q.ts", ("  where: { id, userId: req.user.id },",)),
    ("code.credential-compare", "hooks.py", ("    if signature != expected:",)),
    ("code.current-user", "lib/util.py", ("u = request.user", "token = 1")),
    ("code.current-user-dependency", "r.py", ("def f(u=Depends(get_current_active_user)):",)),
    ("code.http-auth-status", "src/x.ts", ("throw new ForbiddenException();",)),
    ("code.http-auth-status-code", "app/x.py", ("    abort(403)",)),
    ("code.signing", "hooks.py", ("if not hmac.compare_digest(a, b):",)),
    ("code.random-secret", "lib/util.py", ("s = secrets.token_urlsafe(32)", "token = s")),
    ("code.lifecycle", "teams/views.py", ("def accept_invitation(request, key):",)),
    ("code.capability", "users/models.py", ("    is_support = models.BooleanField()",)),
    ("code.account-state", "lib/util.py", ("u.is_active = False", "token = 1")),
    ("code.identity-import", "lib/util.py", ("from app.core.security import verify",)),
    ("code.identity-import", "src/x.ts", ("import { useSession } from 'next-auth/react';",)),
    ("code.identity-import", "main.go", ('\t"github.com/golang-jwt/jwt/v5"',)),
    ("code.identity-import", "middleware.ts", ('export { default } from "next-auth/middleware";',)),
    # language-specific rules
    ("python.auth-settings", "config/settings.py", ("SESSION_COOKIE_AGE = 3600",)),
    ("ruby.authz", "app/controllers/a_controller.rb", ("  before_action :authenticate_user!",)),
    (
        "ruby.authz",
        "app/controllers/b_controller.rb",
        ("    redirect_to root_path unless can?(:read, @x)",),
    ),
    ("js.auth-calls", "src/routes.js", ("router.post('/x', passport.authenticate('local'));",)),
    ("go.auth-calls", "h.go", ("\tw.WriteHeader(http.StatusForbidden)",)),
    ("php.authz", "app/Http/C.php", ("        Gate::define('edit', fn () => true);",)),
    ("sql.authz", "db/001.sql", ("GRANT SELECT ON orders TO reporting;",)),
    # configuration, CI, infrastructure, manifests, key material
    ("config.identity-key", "config/app.yaml", ("session_timeout: 30",)),
    ("config.identity-key", ".env.example", ("GITHUB_CLIENT_SECRET=",)),
    ("config.identity-key", "Dockerfile", ("ENV SECRET_KEY=changeme",)),
    ("config.identity-key", "infra/vars.tf", ('variable "db_password" {',)),
    ("config.secret-reference", "deploy.sh", ('curl -H "X: ${DEPLOY_TOKEN}" x',)),
    ("ci.permissions", ".github/workflows/r.yml", ("  id-token: write",)),
    ("ci.permissions", ".github/workflows/r.yml", ("  pull_request_target:",)),
    ("ci.credentials", ".github/workflows/r.yml", ("      token: ${{ secrets.PAT }}",)),
    ("ci.credentials", ".gitlab-ci.yml", ("    - docker login -u x -p y reg",)),
    ("iac.iam-resource", "infra/main.tf", ('resource "aws_iam_role" "app" {',)),
    ("iac.iam-resource", "cfn/template.yaml", ("    Type: AWS::IAM::Policy",)),
    ("iac.policy-statement", "infra/x.tf", ('    actions = ["s3:*"]',)),
    ("iac.policy-statement", "cfn/x.json", ('    "Effect": "Allow",',)),
    ("k8s.rbac", "deploy/x.yaml", ("kind: ClusterRoleBinding",)),
    ("k8s.rbac", "deploy/x.yaml", ("      serviceAccountName: admin",)),
    ("deps.auth-library", "requirements.txt", ("django-allauth==0.61.1",)),
    ("deps.auth-library", "package.json", ('    "@auth/core": "^0.30.0",',)),
    ("deps.auth-library", "go.mod", ("\tgithub.com/coreos/go-oidc/v3 v3.10.0",)),
    ("deps.auth-library", "Gemfile", ('gem "devise", "~> 4.9"',)),
    ("deps.auth-library", "pom.xml", ("<artifactId>spring-boot-starter-security</artifactId>",)),
    ("deps.auth-library", "build.gradle", ("implementation 'io.jsonwebtoken:jjwt-api:0.12.5'",)),
    ("secret.material", "docs/setup.md", ("-----BEGIN RSA PRIVATE KEY-----",)),
    ("secret.material", "config/x.py", ("AWS_KEY = 'AKIAABCDEFGHIJKLMNOP'",)),
    (
        "secret.ssh-public-key",
        "deploy/users.yml",
        ("key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3x",),
    ),
]

#: Changes that must not fire at all: the precision hazards named in the design.
NEGATIVE: list[tuple[str, tuple[str, ...]]] = [
    (
        "blog/models.py",
        ("    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=CASCADE)",),
    ),
    ("src/geo/boundaries.ts", ("export const localAuthority = await load('lad');",)),
    ("nlp/tokenizer.py", ("def tokenize(text):", "    return TOKEN_RE.findall(text)")),
    ("src/editor/keyboard.ts", ("if (e.key === 'Enter' && e.metaKey) submit();",)),
    ("tests/test_utils.py", ("def test_x(monkeypatch):", "    monkeypatch.setattr(m, 'A', 1)")),
    ("transport/models.py", ("class Passenger(models.Model):",)),
    ("storage/local.py", ("    # fix file permissions", "    os.chmod(path, 0o644)")),
    ("assistant/prompts.py", ('    {"role": "system", "content": PROMPT},',)),
    ("src/Modal.tsx", ('<div role="dialog" aria-modal="true">',)),
    ("src/hooks/useDraft.ts", ("sessionStorage.setItem('draft', d);",)),
    ("app/db/session.py", ("SessionLocal = sessionmaker(bind=engine)",)),
    ("src/theme/tokens.ts", ("export const colorTokens = { primary: '#000' };",)),
    ("docs/auth.md", ("Log in with your password and a token.",)),
    ("src/styles/login.module.css", (".loginButton { color: red; }",)),
    ("package.json", ('  "author": "Jane Doe <jane@example.com>",',)),
    ("config/llm.yaml", ("max_tokens: 2048",)),
    ("deploy/k8s/app.yaml", ("      securityContext:", "        runAsNonRoot: true")),
    ("ansible/roles/nginx/tasks/main.yml", ("- name: install nginx",)),
    ("README.md", ("Open the app and sign in as `demo`.",)),
    ("src/components/Navbar.tsx", ('<Link href="/login">Sign in</Link>',)),
    ("go.sum", ("github.com/jackc/pgx/v5 v5.6.0 h1:2faOTPjwtAUTH0aaaaaaaaaaaaaaaaaaaaaaaaaaaaa=",)),
    ("ml/train.py", ("parser.add_argument('--max-tokens', type=int)",)),
    ("web3/erc20.py", ("token_contract = w3.eth.contract(address=TOKEN_ADDRESS)",)),
    ("templates/contact.html", ("<form method='post'>{% csrf_token %}",)),
    ("src/CookieBanner.tsx", ("document.cookie = 'consent=1';",)),
    ("blog/admin.py", ("@admin.register(Post)", "class PostAdmin(admin.ModelAdmin):")),
    ("parser/lexer.py", ("    if token == '(':", "        depth += 1")),
    ("src/editor/keys.ts", ("if (e.key === 'Escape') close();",)),
    ("push/apns.py", ("device_token = payload['device_token']",)),
    ("src/create.ts", ("const post = await db.post.create({ data: { title } });",)),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("rule_id", "path", "added"), POSITIVE)
def test_rule_fires(version: str, rule_id: str, path: str, added: tuple[str, ...]) -> None:
    assert rule_id in VERSIONS[version].classify(change(path, *added))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("path", "added"), NEGATIVE)
def test_hazard_does_not_fire(version: str, path: str, added: tuple[str, ...]) -> None:
    assert VERSIONS[version].classify(change(path, *added)) == ()


def test_every_rule_of_ruleset_1_has_a_positive_case() -> None:
    covered = {rule_id for rule_id, _, _ in POSITIVE}
    covered |= {"git.symlink", "git.gitlink", "git.symlink-alias", "code.source-encoding"}
    covered |= {"code.guard-flow"}  # needs whole sources: tests/verify/test_gate_sees.py
    covered |= {"blob.packaged-code"}  # needs a blob's head: tests/classify/test_classify_sees
    assert set(CLF.rules) - covered == set()


def test_removed_lines_count_like_added_ones() -> None:
    c = FileChange(
        "blog/views.py", "blog/views.py", "M", "100644", "100644", (), ("@login_required",)
    )
    assert "code.login-flow" in CLF.classify(c)


def test_weak_words_alone_do_not_fire() -> None:
    assert CLF.classify(change("lib/util.py", "session = make()")) == ()
    # Two words, one concept: roles and permissions are both the "role" concept.
    assert CLF.classify(change("lib/util.py", "roles = []", "permissions = {}")) == ()


def test_weak_words_in_tests_do_not_combine() -> None:
    c = change("tests/test_posts.py", "self.client.login(username='a', password='b')", "token = 1")
    assert CLF.classify(c) == ()


def test_medium_rules_fire_alone_except_in_tests() -> None:
    assert CLF.classify(change("app/factories.py", "u.set_password('x')"))
    assert CLF.classify(change("tests/factories.py", "u.set_password('x')")) == ()
