"""Equivalences ``builtin:identity@2`` shows from syntax trees (decision 0019).

Each equivalence has cases that must stay neutral and near-misses that must still count:
THREATS.md G46 (a change hidden in a behaviour-neutral-looking edit) is why the near-misses
are as many as the equivalences.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.classify.test_v2_stages import Lab


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


# --- Python string formatting ----------------------------------------------------------------

TRANSPORT = """\
import requests


def notify(channel, payload):
    headers = {
        "Content-Type": "application/json",
        "Authorization": "GenieKey %s" % channel.api_key,
    }
    return requests.post(channel.url, json=payload, headers=headers)
"""
PATH = "app/auth/transports.py"


@pytest.mark.parametrize(
    "new",
    [
        'f"GenieKey {channel.api_key}"',
        '"GenieKey {}".format(channel.api_key)',
        '"GenieKey %s" % (channel.api_key,)',
        "'GenieKey %s' % channel.api_key",
    ],
    ids=["f-string", "str.format", "one-tuple", "quotes"],
)
def test_equivalent_string_formatting_is_neutral(lab: Lab, new: str) -> None:
    """The same literal pieces and expressions, in order, with plain conversions."""
    lab.repo.commit("transport", {PATH: TRANSPORT})
    assert lab.rules({}, {PATH: TRANSPORT.replace('"GenieKey %s" % channel.api_key', new)}) == set()


@pytest.mark.parametrize(
    "new",
    [
        'f"Bearer {channel.api_key}"',
        'f"GenieKey {channel.secret_key}"',
        'f"GenieKey {channel.api_key!r}"',
        'f"GenieKey {channel.api_key:>40}"',
        '"GenieKey %r" % channel.api_key',
        '"GenieKey %s" % (channel.api_key)',
        '"GenieKey {0}".format(channel.api_key)',
        '"GenieKey {k}".format(k=channel.api_key)',
        'f"GenieKey {channel.api_key} {channel.api_key}"',
        'f"GenieKey\\t{channel.api_key}"',
        '"GenieKey %(k)s" % {"k": channel.api_key}',
    ],
    ids=[
        "other-literal", "other-expression", "conversion", "format-spec", "percent-r",
        "parenthesised", "numbered", "keyword", "more-fields", "escape", "mapping",
    ],
)  # fmt: skip
def test_formatting_that_may_differ_counts(lab: Lab, new: str) -> None:
    """Fail closed: anything not shown to build the same text is a change."""
    lab.repo.commit("transport", {PATH: TRANSPORT})
    assert lab.rules({}, {PATH: TRANSPORT.replace('"GenieKey %s" % channel.api_key', new)})


# --- PHP name resolution ---------------------------------------------------------------------

SERVICE = """\
<?php

namespace App\\Auth\\Oidc;

use function auth;
use App\\Auth\\LoginService;
use function config;

class OidcService
{
    public function login(LoginService $service, array $claims)
    {
        if (config('oidc.enabled') && !auth()->check()) {
            return $service->login($claims['sub']);
        }
        return null;
    }
}
"""
PHP_PATH = "app/Auth/Access/Oidc/OidcService.php"


def test_dropping_use_function_of_a_global_function_is_neutral(lab: Lab) -> None:
    """PHP falls back to the global function the import named (decision 0019)."""
    lab.repo.commit("service", {PHP_PATH: SERVICE})
    new = SERVICE.replace("use function auth;\n", "").replace("use function config;\n", "")
    assert lab.rules({}, {PHP_PATH: new}) == set()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("use function auth;\n", "use function App\\Auth\\auth;\n"),
        ("use function config;\n", "use function config as cfg;\n"),
        ("use App\\Auth\\LoginService;\n", ""),
        ("use function auth;\n", "function auth() { return fake(); }\n"),
    ],
    ids=["other-function", "aliased", "class-import", "shadowed-here"],
)
def test_php_import_changes_that_may_resolve_elsewhere_count(lab: Lab, old: str, new: str) -> None:
    """A class import has no fallback; a namespaced or aliased function import is not global;
    a function of the same name defined in the file takes the call (THREATS.md G46)."""
    lab.repo.commit("service", {PHP_PATH: SERVICE})
    assert lab.rules({}, {PHP_PATH: SERVICE.replace(old, new)})


def test_a_method_of_the_same_name_does_not_take_the_call(lab: Lab) -> None:
    """``config()`` never calls a method ``config``: only functions shadow the global one."""
    method = (
        "    protected function config(): array\n    {\n        return config('oidc');\n    }\n}\n"
    )
    source = SERVICE[: SERVICE.rindex("}")] + method
    lab.repo.commit("service", {PHP_PATH: source})
    assert lab.rules({}, {PHP_PATH: source.replace("use function config;\n", "")}) == set()


# --- moves that change nesting ---------------------------------------------------------------

LOOKUP = """\
def lookup_project(api_key, accept_rw, accept_ro):
    \"\"\"Look up project by API key.\"\"\"
    if accept_rw and api_key.startswith("hcw_"):
        for project in Project.objects.filter(api_key__startswith=api_key[4:12]):
            if project.compare_api_key(api_key):
                return project
    return None
"""
MODELS = "from django.db import models\n\n\nclass Project(models.Model):\n    pass\n"


def _as_method(function: str, header: str = "    def for_api_key(self, ") -> str:
    body = "".join("    " + line if line else line for line in function.splitlines(True))
    return body.replace("    def lookup_project(", header, 1)


def _nesting_move(lab: Lab, method: str, function: str = LOOKUP) -> set[str]:
    before = {"app/api/auth.py": "import json\n\n\n" + function, "app/models.py": MODELS}
    after: dict[str, str | None] = {
        "app/api/auth.py": "import json\n",
        "app/models.py": MODELS + "\n\nclass ProjectManager(models.Manager):\n" + method,
    }
    return lab.rules(before, after)


def test_a_function_moved_into_a_class_as_a_method_is_not_read_again(lab: Lab) -> None:
    """Python: a method's body resolves names as a module function's does (the class scope is
    skipped), so the same body with an unused ``self`` in front decides the same."""
    assert _nesting_move(lab, _as_method(LOOKUP)) == set()


def test_a_method_moved_out_to_a_module_function_is_not_read_again(lab: Lab) -> None:
    before = {"app/models.py": MODELS + "\n\nclass Keys:\n" + _as_method(LOOKUP)}
    after: dict[str, str | None] = {"app/models.py": MODELS, "app/api/keys.py": LOOKUP}
    assert lab.rules(before, after) == set()


def test_a_method_added_to_or_taken_from_a_class_that_stays_counts(lab: Lab) -> None:
    """The class's instances now run (or no longer run) that method: it may override a base
    class's check (THREATS.md G46)."""
    keys = "\n\nclass Keys(BaseKeys):\n    kind = 'api'\n"
    before = {"app/api/auth.py": "import json\n\n\n" + LOOKUP, "app/models.py": MODELS + keys}
    after: dict[str, str | None] = {
        "app/api/auth.py": "import json\n",
        "app/models.py": MODELS + keys + _as_method(LOOKUP),
    }
    assert lab.rules(before, after)
    before = {"app/models.py": MODELS + keys + _as_method(LOOKUP)}
    assert lab.rules(before, {"app/models.py": MODELS + keys, "app/api/keys.py": LOOKUP})


@pytest.mark.parametrize(
    "method",
    [
        _as_method(LOOKUP.replace("accept_rw and ", "")),
        _as_method(LOOKUP.replace("return None", "return self.default")),
        _as_method(LOOKUP, "    @staticmethod\n    def for_api_key("),
        _as_method(LOOKUP, "    def for_api_key(self, owner, "),
        _as_method(LOOKUP, "    def for_api_key("),
    ],
    ids=["check-dropped", "self-read", "decorated", "parameter-added", "no-self"],
)
def test_a_nesting_move_that_changes_the_body_counts(lab: Lab, method: str) -> None:
    """THREATS.md G46: only the same body with an unused leading ``self`` is a move."""
    assert _nesting_move(lab, method)


@pytest.mark.parametrize(
    "ending",
    ["return __fallback(api_key)", "return super().get(api_key)"],
    ids=["mangled", "super"],
)
def test_a_body_whose_names_mean_otherwise_in_a_class_counts(lab: Lab, ending: str) -> None:
    """Inside a class ``__name`` is mangled and ``super()`` reads the class: same tokens,
    other meaning."""
    function = LOOKUP.replace("return None", ending)
    assert _nesting_move(lab, _as_method(function), function)


# --- JavaScript arrow bodies -----------------------------------------------------------------

WEBAUTHN = """\
export function decodeOptions(opts, decode) {
    opts.publicKey.challenge = decode(opts.publicKey.challenge);
    opts.publicKey.allowCredentials.forEach((credential) => credential.id = decode(credential.id));
    const ids = opts.publicKey.allowCredentials.map((credential) => credential.id);
    return ids;
}
"""
JS_PATH = "static/js/webauthn_handler.js"
FOR_EACH = "forEach((credential) => credential.id = decode(credential.id));"
MAP = "map((credential) => credential.id);"


@pytest.mark.parametrize(
    ("old", "new"),
    [(MAP, "map((credential) => {\n        return credential.id;\n    });")],
    ids=["return-block"],
)
def test_arrow_bodies_that_say_the_same_are_neutral(lab: Lab, old: str, new: str) -> None:
    lab.repo.commit("handler", {JS_PATH: WEBAUTHN})
    assert lab.rules({}, {JS_PATH: WEBAUTHN.replace(old, new)}) == set()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (MAP, "map((credential) => {\n        credential.id;\n    });"),
        (
            FOR_EACH,
            "forEach((credential) => {\n        credential.id = decode(credential.id);\n    });",
        ),
        (
            FOR_EACH,
            "forEach((credential) => {\n        credential.id = decode(credential.rawId);\n    });",
        ),
        (
            FOR_EACH,
            "forEach((credential) => {\n        credential.id = decode(credential.id);\n"
            "        credential.type = 'public-key';\n    });",
        ),
    ],
    ids=["map-drops-result", "for-each-block", "other-expression", "more-statements"],
)
def test_arrow_bodies_that_may_differ_count(lab: Lab, old: str, new: str) -> None:
    """``map`` reads what its callback returns: a block without ``return`` changes it. So may
    a ``forEach``: Immutable.js's stops when the callback returns ``false``."""
    lab.repo.commit("handler", {JS_PATH: WEBAUTHN})
    assert lab.rules({}, {JS_PATH: WEBAUTHN.replace(old, new)})


# --- other spellings a language defines as the same ------------------------------------------

SESSIONS = """\
class SessionsController < ApplicationController
  def create
    user = User.authenticate(params[:email], params[:password])
    session[:user_id] = user.id
    cookies.encrypted[:remember] = { :value => user.remember_token, :httponly => true }
    redirect_to root_path
  rescue AuthError => e
    redirect_to login_path
  end
end
"""
RB_PATH = "app/controllers/sessions_controller.rb"
COOKIE = "{ :value => user.remember_token, :httponly => true }"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (COOKIE, "{ value: user.remember_token, httponly: true }"),
        ("  rescue AuthError => e\n", "  rescue AuthError\n"),
    ],
    ids=["symbol-keys", "unread-rescue-binding"],
)
def test_ruby_spellings_of_the_same_program_are_neutral(lab: Lab, old: str, new: str) -> None:
    lab.repo.commit("controller", {RB_PATH: SESSIONS})
    assert lab.rules({}, {RB_PATH: SESSIONS.replace(old, new)}) == set()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (COOKIE, '{ "value" => user.remember_token, "httponly" => true }'),
        (COOKIE, "{ value: user.remember_token, httponly: false }"),
        ("  rescue AuthError => e\n", "  rescue => e\n"),
    ],
    ids=["string-keys", "other-value", "other-exceptions"],
)
def test_ruby_spellings_that_differ_count(lab: Lab, old: str, new: str) -> None:
    """String keys are not symbols; a binding read elsewhere is kept (THREATS.md G46)."""
    lab.repo.commit("controller", {RB_PATH: SESSIONS})
    assert lab.rules({}, {RB_PATH: SESSIONS.replace(old, new)})


def test_a_rescue_binding_that_is_read_is_kept(lab: Lab) -> None:
    source = SESSIONS.replace("redirect_to login_path\n", "redirect_to login_path(e.message)\n")
    lab.repo.commit("controller", {RB_PATH: source})
    assert lab.rules({}, {RB_PATH: source.replace(" => e\n", "\n")})


GUARD = """\
export function requireUser(req: Request, res: Response, next: NextFunction) {
    try {
        const user = verifySession(req.cookies.session as string);
        (req as AuthedRequest).user = user!;
        next();
    } catch (err) {
        res.status(401).end();
    }
}
"""
TS_PATH = "src/middleware/auth.ts"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("req.cookies.session as string", "req.cookies.session"),
        ("user!;", "user;"),
        ("} catch (err) {", "} catch {"),
    ],
    ids=["as", "non-null", "unread-catch-binding"],
)
def test_erased_typescript_and_unread_catch_bindings_are_neutral(
    lab: Lab, old: str, new: str
) -> None:
    lab.repo.commit("guard", {TS_PATH: GUARD})
    assert lab.rules({}, {TS_PATH: GUARD.replace(old, new)}) == set()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("req.cookies.session as string", "req.cookies.token as string"),
        ("(req as AuthedRequest).user", "req.user"),
        ("        res.status(401).end();\n", "        res.status(401).send(String(err));\n"),
    ],
    ids=["other-expression", "parentheses-kept", "binding-read"],
)
def test_typescript_changes_count(lab: Lab, old: str, new: str) -> None:
    lab.repo.commit("guard", {TS_PATH: GUARD})
    assert lab.rules({}, {TS_PATH: GUARD.replace(old, new)})


def test_python_unread_except_binding_is_neutral(lab: Lab) -> None:
    view = TRANSPORT.replace(
        "    return requests.post(channel.url, json=payload, headers=headers)\n",
        "    try:\n        return requests.post(channel.url, json=payload, headers=headers)\n"
        "    except requests.Timeout as error:\n        return None\n",
    )
    lab.repo.commit("transport", {PATH: view})
    assert lab.rules({}, {PATH: view.replace(" as error:", ":")}) == set()
    lab.repo.commit("again", {PATH: view})
    read = view.replace("        return None\n", "        return str(error)\n")
    assert lab.rules({}, {PATH: read.replace(" as error:", ":")})


def test_a_catch_binding_read_as_a_shorthand_property_is_kept(lab: Lab) -> None:
    """``{ err }`` reads ``err``: without the binding it names another variable."""
    source = GUARD.replace("res.status(401).end();", "res.status(401).json({ err });")
    lab.repo.commit("guard", {TS_PATH: source})
    assert lab.rules({}, {TS_PATH: source.replace("} catch (err) {", "} catch {")})
