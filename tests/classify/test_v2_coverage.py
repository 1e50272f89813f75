"""``builtin:identity@2``'s added rules for the frameworks reviewers meet, with quiet hazards."""

from __future__ import annotations

import pytest

from provenance.classify import RULESET_V1, Classifier
from provenance.models import FileChange

V2 = Classifier.build()
V1 = Classifier.build(rulesets=[RULESET_V1])


def change(path: str, *added: str, removed: tuple[str, ...] = ()) -> FileChange:
    """A modification of ``path`` adding ``added`` lines (no hunk headers, no sources)."""
    return FileChange(path, path, "M", "100644", "100644", tuple(added), removed)


COVERAGE: list[tuple[str, str, tuple[str, ...]]] = [
    # ASP.NET
    ("dotnet.authz", "Controllers/AdminController.cs", ('[Authorize(Roles = "Admin")]',)),
    ("dotnet.authz", "Controllers/HomeController.cs", ("    [AllowAnonymous]",)),
    ("dotnet.authz", "Program.cs", ('app.MapGet("/r", h).RequireAuthorization("Staff");',)),
    ("dotnet.authz", "Pages/Admin.razor", ('@attribute [Authorize(Policy = "Admins")]',)),
    ("dotnet.authz", "Startup.cs", ("services.AddAuthentication().AddJwtBearer(o => {});",)),
    # Rust extractors and guards
    ("rust.authz", "src/extract.rs", ("impl<S> FromRequestParts<S> for AdminUser {",)),
    ("rust.authz", "src/main.rs", ("    .layer(ValidateRequestHeaderLayer::bearer(&token))",)),
    ("rust.authz", "src/routes.rs", ('#[has_permissions("ADMIN")]',)),
    # Laravel and Symfony gates, policies and middleware
    ("php.authz", "app/Http/Controllers/DocController.php", ("$this->middleware('auth');",)),
    ("php.authz", "routes/web.php", ("Route::get('/a', X::class)->middleware(['can:view,doc']);",)),
    ("php.authz", "src/Controller/AdminController.php", ("#[IsGranted('ROLE_ADMIN')]",)),
    (
        "php.authz",
        "src/Controller/PostController.php",
        ("$this->denyAccessUnlessGranted('edit', $p);",),
    ),
    ("php.authz", "src/Security/PostVoter.php", ("class PostVoter extends Voter",)),
    ("config.symfony-security", "config/packages/security.yaml", ("    access_control:",)),
    # Rails: Pundit and HTTP authentication
    ("ruby.authz", "app/controllers/posts_controller.rb", ("  after_action :verify_authorized",)),
    (
        "ruby.authz",
        "app/controllers/admin_controller.rb",
        ("  http_basic_authenticate_with name: 'ops', password: ENV['OPS']",),
    ),
    # Django and DRF
    ("code.authz-check", "api/views.py", ("    authentication_classes = [TokenAuth]",)),
    ("code.authz-check", "web/views.py", ("class Board(LoginRequiredMixin, TemplateView):",)),
    # Spring
    (
        "code.authz-check",
        "src/main/java/app/SecurityConfig.java",
        ('http.authorizeHttpRequests(a -> a.requestMatchers("/admin/**").hasRole("ADMIN"));',),
    ),
    # guest users and re-authentication
    ("code.authz-check", "app/Users/UserController.php", ("        $this->preventGuestAccess();",)),
    ("code.auth-decorator", "accounts/views.py", ("@require_sudo_mode",)),
    (
        "code.ownership",
        "app/controllers/stories_controller.rb",
        ("@story = Story.new(user: @user)",),
    ),
    # the session entry that says who is logged in (any language)
    (
        "code.session-identity",
        "app/controllers/pages_controller.rb",
        ("    @viewer = User.find_by(id: session[:user_id])",),
    ),
    ("code.session-identity", "app/views.py", ('    request.session["federated_user"] = u.pk',)),
    ("code.session-identity", "src/pages.php", ("$_SESSION['uid'] = $row['id'];",)),
    ("code.session-identity", "server/routes.js", ("  req.session.userId = account.id;",)),
    ("code.session-identity", "web/handler.go", ('	id := sess.Values["user_id"]',)),
    # Express and Next.js middleware, Go middleware chains
    ("js.middleware", "server/app.js", ("app.use('/admin', requireAuth);",)),
    ("js.middleware", "server/app.ts", ("router.use(passport.authenticate('jwt'));",)),
    # a guard on one route: removing it from the line opens the route (decision 0029)
    ("js.middleware", "server/app.js", ('app.get("/admin/users", requireAdmin, listUsers);',)),
    (
        "js.middleware",
        "src/routes.ts",
        ("apiRouter.delete('/notes/:id', rateLimit(5), ensureAuth, rm);",),
    ),
    ("js.middleware-matcher", "src/middleware.ts", ("  matcher: ['/dashboard/:path*'],",)),
    ("go.middleware", "cmd/web/routes.go", ("\tr.Use(authMiddleware)",)),
    ("go.middleware", "cmd/web/routes.go", ('\tadmin := r.Group("/admin", requireAdmin)',)),
    # web servers, IAM wildcards, OPA data, machines, repository settings
    ("config.web-server-auth", "deploy/nginx/site.conf", ('    auth_basic "Restricted";',)),
    ("config.web-server-auth", "deploy/nginx/site.conf", ("    allow 10.0.0.0/8;",)),
    ("config.web-server-auth", "deploy/apache/app.conf", ("    Require valid-user",)),
    ("iac.policy-statement", "infra/bucket-policy.json", ('      "Principal": "*",',)),
    ("path.policy-data", "deploy/opa/data.json", ()),
    ("path.policy-data", "services/policy/authz/data.json", ()),
    ("path.system-auth", "deploy/sudoers.d/app", ()),
    ("path.system-auth", "ansible/files/sshd_config", ()),
    ("path.system-auth", "image/etc/pam.d/login", ()),
    ("git.repository-settings", ".github/settings.yml", ()),
]


@pytest.mark.parametrize(("rule_id", "path", "added"), COVERAGE)
def test_added_rule_fires(rule_id: str, path: str, added: tuple[str, ...]) -> None:
    assert rule_id in V2.classify(change(path, *added))


NEGATIVE: list[tuple[str, tuple[str, ...]]] = [
    ("server/app.js", ("app.use(express.json());", "app.use('/static', serveStatic(dir));")),
    ("cmd/web/routes.go", ("\tr.Use(middleware.Logger)", '\tapi := r.Group("/api/v1")')),
    ("Controllers/HomeController.cs", ("[HttpGet]", '[Route("api/[controller]")]')),
    ("src/extract.rs", ("impl From<Row> for Item {",)),
    ("deploy/nginx/site.conf", ("    proxy_pass http://app;", "    gzip on;")),
    ("config/packages/framework.yaml", ("    access_log: /var/log/app.log",)),
    ("app/Http/Controllers/Pages.php", ("$this->middleware('throttle:60,1');",)),
    ("src/middleware.ts", ("export const config = { runtime: 'edge' };",)),
    ("app/controllers/pages_controller.rb", ("    session[:return_to] = request.url",)),
    ("server/routes.js", ("  req.session.cart = items;", "  db.session.query(Item)")),
]


@pytest.mark.parametrize(("path", "added"), NEGATIVE)
def test_hazard_stays_quiet(path: str, added: tuple[str, ...]) -> None:
    assert V2.classify(change(path, *added)) == ()


def test_ruleset_1_does_not_have_the_additions() -> None:
    assert not {"dotnet.authz", "rust.authz", "path.system-auth"} & set(V1.rules)
    assert V1.classify(change("deploy/sudoers.d/app")) == ()


def test_every_rule_of_ruleset_2_has_a_positive_case() -> None:
    from tests.classify.test_classify_rules import POSITIVE

    covered = {r for r, _, _ in (*POSITIVE, *COVERAGE)}
    covered |= {"git.symlink", "git.gitlink", "git.symlink-alias", "code.source-encoding"}
    # need whole sources (tests/classify/test_v2_stages.py) or a whole gate
    covered |= {"code.guard-flow", "code.lifecycle-function", "deps.identity-library"}
    covered |= {"code.access-definition"}  # tests/classify/test_v2_access_definitions.py
    covered |= {"code.scoped-lookup"}  # tests/classify/test_v2_scoped_lookups.py
    covered |= {"code.mass-assignment", "code.privilege-assignment", "code.session-renewal"}
    covered |= {"code.login-throttle", "code.token-validation", "code.cors-credentials"}
    covered |= {"code.identity-header", "code.token-expiry"}  # test_v2_red_team.py
    covered |= {"ci.identity", "template.csrf", "template.form"}
    # recognised by a blob's first bytes (tests/classify/test_classify_red_team.py)
    covered |= {"blob.packaged-code"}
    assert set(V2.rules) - covered == set()
