"""Local variables renamed consistently inside one function are behaviour-neutral (decision 0022).

A rename is read as neutral only where it is shown to be an alpha-renaming of a function's
local on both syntax trees; every near-miss below must still count: THREATS.md G46 (a change
hidden in a behaviour-neutral-looking edit) is why they outnumber the neutral cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.classify.test_v2_stages import V1, Lab


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


def _renamed(lab: Lab, path: str, source: str, *edits: tuple[str, str]) -> set[str]:
    """Rules ``@2`` fires on ``source`` edited by ``edits`` (each replaced everywhere)."""
    new = source
    for old, text in edits:
        assert old in new, old
        new = new.replace(old, text)
    lab.repo.commit("before", {path: source})
    return lab.rules({}, {path: new})


# --- Python ------------------------------------------------------------------------------------

PY = """\
from django.http import HttpResponseForbidden


def check_api_key(request, project):
    token = request.headers.get("X-Api-Key", "")
    if not token or token != project.api_key:
        return HttpResponseForbidden()
    digest = [c for c in token]
    return f"ok {token}"
"""
PY_PATH = "app/auth/api.py"


def test_python_local_rename_is_neutral(lab: Lab) -> None:
    """Every use of a local assigned in the function, renamed to a fresh name."""
    assert _renamed(lab, PY_PATH, PY, ("token", "raw_key")) == set()


def test_python_rename_fires_without_the_equivalence(lab: Lab) -> None:
    """The same commit under ``@1``, which reads lines: the rename is what was flagged."""
    lab.repo.commit("before", {PY_PATH: PY})
    assert lab.rules({}, {PY_PATH: PY.replace("token", "raw_key")}, V1)


def test_python_comprehension_variable_rename_is_neutral(lab: Lab) -> None:
    assert _renamed(lab, PY_PATH, PY, ("c for c in", "ch for ch in")) == set()


@pytest.mark.parametrize(
    ("edits"),
    [
        (("token", "raw_key"), ("project.api_key", "project.raw_key")),  # attribute too
        (("token != project", "raw_key == project"), ("token", "raw_key")),  # real change
        (("token", "project"),),  # captures a parameter
        (
            ("    token = request", "    token = request"),
            ("(request, project)", "(req, project)"),
            ("request.headers", "req.headers"),
        ),  # parameter: callers may pass request=
        (("token", "raw_key"), ('    return f"ok {raw_key}"', '    return f"ok {token}"')),
        (("def check_api_key", "def check_key"),),  # a function rename
    ],
    ids=["attribute", "real-change", "capture", "parameter", "partial", "function"],
)
def test_python_near_misses_count(lab: Lab, edits: tuple[tuple[str, str], ...]) -> None:
    """Fail closed (THREATS.md G46): anything not shown to be a local's consistent rename."""
    assert _renamed(lab, PY_PATH, PY, *edits)


@pytest.mark.parametrize("reader", ["locals()", "vars()", "eval('1')", "sys._getframe()"])
def test_python_names_read_by_name_count(lab: Lab, reader: str) -> None:
    """Code that reads locals by name sees a rename."""
    source = PY.replace('    return f"ok {token}"', f'    {reader}\n    return f"ok {{token}}"')
    assert _renamed(lab, PY_PATH, source, ("token", "raw_key"))


def test_python_name_read_by_a_nested_function_counts(lab: Lab) -> None:
    """A closure reading the name: renaming could change what it captures, so it is read."""
    source = PY.replace(
        '    return f"ok {token}"\n', "    check = lambda: token\n    return check()\n"
    )
    assert _renamed(lab, PY_PATH, source, ("token", "raw_key"))


def test_python_class_rename_counts(lab: Lab) -> None:
    """Decision 0013: a class's name can matter at run time."""
    source = (
        "class TokenAuth:\n    def check(self, request):\n        return request.user.is_staff\n"
    )
    assert _renamed(lab, PY_PATH, source, ("TokenAuth", "KeyAuth"))


# --- JavaScript / TypeScript -------------------------------------------------------------------

JS = """\
export function requireToken(req, res, next) {
  const token = req.headers.authorization;
  if (!token || !verifyJwt(token, { audience: token.aud })) {
    return res.status(401).send(`denied ${token}`);
  }
  req.user = decode(token);
  return next();
}
"""
JS_PATH = "src/middleware/auth.js"


@pytest.mark.parametrize("path", [JS_PATH, "src/middleware/auth.ts"])
def test_javascript_local_rename_is_neutral(lab: Lab, path: str) -> None:
    """``const`` at the top of the function body, template literal included."""
    assert _renamed(lab, path, JS, ("token", "bearer")) == set()


def test_javascript_parameter_rename_is_neutral(lab: Lab) -> None:
    """Callers cannot name a JavaScript parameter."""
    edits = [("(req,", "(request,"), ("req.", "request.")]
    assert _renamed(lab, JS_PATH, JS, *edits) == set()


@pytest.mark.parametrize(
    ("edits"),
    [
        (("token", "bearer"), ("audience: bearer.aud", "audience: bearer.bearer")),  # property
        (("{ audience: token.aud }", "{ token }"), ("token", "bearer")),  # shorthand key
        (("token", "next"),),  # captures a parameter
        (("const token", "let token"), ("token", "bearer")),  # plus a real change
        (("return next();", "return eval('next()');"), ("token", "bearer")),
        (("req.user = decode(token)", "req.user = decode(bearer)"),),  # partial: a global now
        (("requireToken", "requireKey"),),  # a function rename
    ],
    ids=["property", "shorthand", "capture", "real-change", "eval", "partial", "function"],
)
def test_javascript_near_misses_count(lab: Lab, edits: tuple[tuple[str, str], ...]) -> None:
    """Fail closed (THREATS.md G46)."""
    assert _renamed(lab, JS_PATH, JS, *edits)


def test_javascript_block_scoped_binding_counts(lab: Lab) -> None:
    """A ``let`` inside a block is not the name used after it (that one is global)."""
    source = JS.replace("  const token = req.headers.authorization;\n", "  { let token = 1; }\n")
    assert _renamed(lab, JS_PATH, source, ("token", "bearer"))


# --- Go ----------------------------------------------------------------------------------------

GO = """\
package auth

func RequireToken(w http.ResponseWriter, r *http.Request) bool {
	token := r.Header.Get("Authorization")
	claims := Claims{token: token}
	if token == "" || !verify(token) {
		http.Error(w, fmt.Sprintf("denied %s", token), http.StatusUnauthorized)
		return false
	}
	return claims.ok
}
"""
GO_PATH = "internal/auth/middleware.go"


def test_go_local_and_parameter_renames_are_neutral(lab: Lab) -> None:
    """``:=`` at the top of the body, and a parameter (callers cannot name Go parameters)."""
    source = GO.replace("Claims{token: token}", "Claims{Token: token}")
    edits = [("token", "bearer"), ("r.Header", "req.Header"), ("r *", "req *")]
    assert _renamed(lab, GO_PATH, source, *edits) == set()


def test_go_local_beside_a_struct_key_is_neutral(lab: Lab) -> None:
    assert _renamed(lab, GO_PATH, GO, ("claims", "cl")) == set()


@pytest.mark.parametrize(
    ("edits"),
    [
        (("token", "bearer"),),  # also renames the struct field key ``token:``
        (("token := r", "token = r"), ("token", "bearer")),  # assigns a package variable
        (("token", "w"),),  # captures a parameter
    ],
    ids=["struct-key", "not-declared", "capture"],
)
def test_go_near_misses_count(lab: Lab, edits: tuple[tuple[str, str], ...]) -> None:
    assert _renamed(lab, GO_PATH, GO, *edits)


# --- Ruby --------------------------------------------------------------------------------------

RUBY = """\
class SessionsController < ApplicationController
  def create
    user = User.find_by(email: params[:email])
    if user&.authenticate(params[:password])
      session[:user_id] = user.id
      redirect_to root_path, notice: "Welcome #{user.name}"
    else
      head :unauthorized
    end
  end
end
"""
RUBY_PATH = "app/controllers/sessions_controller.rb"


RUBY_RENAME = (
    ("user =", "found ="), ("user&.", "found&."), ("user.id", "found.id"),
    ("{user.name}", "{found.name}"),
)  # fmt: skip


def test_ruby_local_rename_is_neutral(lab: Lab) -> None:
    """A local assigned first, outside blocks; symbols and string interpolation too."""
    assert _renamed(lab, RUBY_PATH, RUBY, *RUBY_RENAME) == set()


@pytest.mark.parametrize(
    ("edits"),
    [
        (
            ("    user = User", "    user = User"),
            ("user&.", "found&."),
            ("user.id", "found.id"),
            ("{user.name}", "{found.name}"),
        ),  # ``user`` was a method
        (*RUBY_RENAME, ("found&.authenticate", "found&.authenticate_later")),
        (
            ("user =", "params ="),
            ("user&.", "params&."),
            ("user.id", "params.id"),
            ("{user.name}", "{params.name}"),
        ),  # captures a method (params)
    ],
    ids=["method-call", "real-change", "capture"],
)
def test_ruby_near_misses_count(lab: Lab, edits: tuple[tuple[str, str], ...]) -> None:
    assert _renamed(lab, RUBY_PATH, RUBY, *edits)


def test_ruby_binding_reads_locals_by_name(lab: Lab) -> None:
    source = RUBY.replace("head :unauthorized", "head binding.local_variable_get(:user)")
    assert _renamed(lab, RUBY_PATH, source, *RUBY_RENAME)


def test_ruby_receiverless_call_is_not_a_local(lab: Lab) -> None:
    """``current_user`` before any assignment calls a method: renaming it is a change."""
    source = (
        RUBY.replace("    user = User.find_by(email: params[:email])\n", "")
        .replace("user&.", "current_user&.")
        .replace("user.id", "current_user.id")
        .replace("{user.name}", "{current_user.name}")
    )
    assert _renamed(lab, RUBY_PATH, source, ("current_user", "found"))


# --- PHP ---------------------------------------------------------------------------------------

PHP = """\
<?php

namespace App\\Http\\Middleware;

class CheckToken
{
    private $token;

    public function handle($request, $next)
    {
        $token = $request->header('X-Token');
        if (!$token || !hash_equals($this->token, $token)) {
            abort(403, "denied $token");
        }
        return $next($request);
    }
}
"""
PHP_PATH = "app/Http/Middleware/CheckToken.php"


def test_php_local_rename_is_neutral(lab: Lab) -> None:
    """``$token`` renamed, ``$this->token`` (a property) left as it was."""
    edits = [("$token =", "$given ="), ("!$token", "!$given"), (", $token)", ", $given)"),
             ("denied $token", "denied $given")]  # fmt: skip
    assert _renamed(lab, PHP_PATH, PHP, *edits) == set()


@pytest.mark.parametrize(
    ("edits"),
    [
        (("$token", "$given"),),  # the property too: $this->token is left, private $given
        (("$request", "$req"),),  # a parameter: PHP 8 named arguments
        (
            ("$token =", "$next ="),
            ("!$token", "!$next"),
            (", $token)", ", $next)"),
            ("denied $token", "denied $next"),
        ),  # captures a parameter
    ],
    ids=["property", "parameter", "capture"],
)
def test_php_near_misses_count(lab: Lab, edits: tuple[tuple[str, str], ...]) -> None:
    assert _renamed(lab, PHP_PATH, PHP, *edits)


@pytest.mark.parametrize("reader", ["extract($request->all());", "log(compact('token'));",
                                    "$name = 'token'; $x = $$name;"])  # fmt: skip
def test_php_names_read_by_name_count(lab: Lab, reader: str) -> None:
    """``compact``, ``extract`` and ``$$`` reach locals by name: a rename changes them."""
    source = PHP.replace("        return $next", f"        {reader}\n        return $next")
    edits = [("$token =", "$given ="), ("!$token", "!$given"), (", $token)", ", $given)"),
             ("denied $token", "denied $given")]  # fmt: skip
    assert _renamed(lab, PHP_PATH, source, *edits)


def test_jsx_element_name_is_not_a_variable(lab: Lab) -> None:
    """``<token />`` names an element (a string), not the local ``token``."""
    source = (
        "export function Login(props) {\n  const token = props.session.key;\n"
        "  return <token auth={token} />;\n}\n"
    )
    assert _renamed(lab, "src/auth/Login.jsx", source, ("token", "bearer"))


def test_typescript_parameter_property_counts(lab: Lab) -> None:
    """``constructor(private token)`` declares a property named by the parameter."""
    source = (
        "export class Auth {\n  constructor(private token: string) {\n"
        "    verifyToken(token);\n  }\n}\n"
    )
    assert _renamed(lab, "src/auth/auth.ts", source, ("token", "bearer"))


def test_ruby_keyword_shorthand_reads_the_local(lab: Lab) -> None:
    """``sign_in(user:)`` passes the local ``user``: it is not only a hash key."""
    source = RUBY.replace("session[:user_id] = user.id", "sign_in(user:)")
    edits = [e for e in RUBY_RENAME if e[0] != "user.id"]
    assert _renamed(lab, RUBY_PATH, source, *edits)


def test_rename_beside_a_real_change_cites_only_the_real_change(lab: Lab) -> None:
    """The renamed lines are neutral; the comparison that changed is what the finding names."""
    lab.repo.commit("before", {PY_PATH: PY})
    new = PY.replace("token", "raw_key").replace("raw_key != project", "raw_key == project")
    judged = lab.judge({}, {PY_PATH: new})
    assert judged.rules
    content = {(f.side, f.first) for f in judged.findings if f.rule.startswith("code.")}
    assert content and content <= {("old", 6), ("new", 6)}


def test_php_method_rename_counts(lab: Lab) -> None:
    """Decision 0013: a renamed method can stop being the one a caller or a parent expects."""
    source = PHP.replace("function handle(", "function verifyToken(")
    assert _renamed(lab, PHP_PATH, source, ("function verifyToken(", "function check("))
