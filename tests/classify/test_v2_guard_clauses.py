"""An ``else`` after a branch that always exits reads as the code after the ``if`` (decision 0028).

Linters rewrite ``if c: return x / else: rest`` into ``if c: return x / rest`` (ruff RET505,
ESLint ``no-else-return``, golint, RuboCop guard clauses); inside identity code that rewrite is
behaviour-neutral. Every near-miss must still count: THREATS.md G46 (a change hidden in a
behaviour-neutral-looking edit).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.classify.test_v2_stages import V1, Lab


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


PY_PATH = "app/auth/views.py"
PY_ELSE = """\
def sign_in(request):
    user = authenticate(request, username=request.POST["u"], password=request.POST["p"])
    if user is None:
        return HttpResponseForbidden()
    else:
        login(request, user)
        return redirect("/")
"""
PY_FLAT = """\
def sign_in(request):
    user = authenticate(request, username=request.POST["u"], password=request.POST["p"])
    if user is None:
        return HttpResponseForbidden()
    login(request, user)
    return redirect("/")
"""


def test_python_else_after_return_is_neutral(lab: Lab) -> None:
    assert lab.edited(PY_PATH, PY_ELSE, PY_FLAT) == set()


def test_python_else_added_after_return_is_neutral(lab: Lab) -> None:
    """The other direction: the same program."""
    assert lab.edited(PY_PATH, PY_FLAT, PY_ELSE) == set()


def test_python_else_after_return_fires_under_v1(lab: Lab) -> None:
    """``@1`` reads lines: the rewrite is what would be flagged without the reading."""
    lab.repo.commit("before", {PY_PATH: PY_ELSE})
    assert lab.rules({}, {PY_PATH: PY_FLAT}, V1)


@pytest.mark.parametrize(
    "after",
    [
        # the branch no longer exits: login now runs for a failed authentication too
        PY_FLAT.replace(
            "        return HttpResponseForbidden()", "        HttpResponseForbidden()"
        ),
        # the else body changed as it moved
        PY_FLAT.replace("    login(request, user)", "    login(request, request.user)"),
        # moved under the if instead of after it
        PY_FLAT.replace(
            "        return HttpResponseForbidden()\n    login(request, user)",
            "        login(request, user)\n        return HttpResponseForbidden()",
        ),
    ],
)
def test_python_near_misses_still_count(lab: Lab, after: str) -> None:
    assert lab.edited(PY_PATH, PY_ELSE, after)


def test_python_branch_that_does_not_exit_is_not_read_so(lab: Lab) -> None:
    """Without the exit, dropping ``else`` runs its body for both outcomes."""
    before = PY_ELSE.replace("        return HttpResponseForbidden()", "        deny(request)")
    after = PY_FLAT.replace("        return HttpResponseForbidden()", "        deny(request)")
    assert lab.edited(PY_PATH, before, after)


def test_python_elif_is_not_read_so(lab: Lab) -> None:
    before = PY_ELSE.replace("    else:\n", "    elif user.is_active:\n")
    assert lab.edited(PY_PATH, before, PY_FLAT)


JS_PATH = "src/auth/session.js"
JS_ELSE = """\
export function requireUser(req, res, next) {
  const user = verifyToken(req.headers.authorization);
  if (!user) {
    return res.status(401).end();
  } else {
    req.user = user;
    next();
  }
}
"""
JS_FLAT = """\
export function requireUser(req, res, next) {
  const user = verifyToken(req.headers.authorization);
  if (!user) {
    return res.status(401).end();
  }
  req.user = user;
  next();
}
"""


def test_javascript_else_after_return_is_neutral(lab: Lab) -> None:
    assert lab.edited(JS_PATH, JS_ELSE, JS_FLAT) == set()


def test_javascript_else_after_throw_is_neutral(lab: Lab) -> None:
    throw = ("    return res.status(401).end();", "    throw new Unauthorized();")
    assert lab.edited(JS_PATH, JS_ELSE.replace(*throw), JS_FLAT.replace(*throw)) == set()


def test_javascript_block_scoped_declaration_is_not_moved(lab: Lab) -> None:
    """A ``const`` leaving its block can shadow or clash: not read as the same program."""
    declare = ("    req.user = user;", "    const user = lookup(req);\n    req.user = user;")
    assert lab.edited(JS_PATH, JS_ELSE.replace(*declare), JS_FLAT.replace(*declare))


GO_PATH = "internal/auth/middleware.go"
GO_ELSE = """\
package auth

func RequireUser(w http.ResponseWriter, r *http.Request) {
	user, err := Authenticate(r)
	if err != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	} else {
		serve(w, r, user)
	}
}
"""
GO_FLAT = """\
package auth

func RequireUser(w http.ResponseWriter, r *http.Request) {
	user, err := Authenticate(r)
	if err != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	serve(w, r, user)
}
"""


def test_go_else_after_return_is_neutral(lab: Lab) -> None:
    assert lab.edited(GO_PATH, GO_ELSE, GO_FLAT) == set()


def test_go_if_with_initializer_is_not_read_so(lab: Lab) -> None:
    """``if x := f(); ...``: ``x`` is in scope in the ``else`` only."""
    init = (
        "\tuser, err := Authenticate(r)\n\tif err != nil {",
        "\tif user, err := Authenticate(r); err != nil {",
    )
    assert lab.edited(GO_PATH, GO_ELSE.replace(*init), GO_FLAT.replace(*init))


PHP_PATH = "app/Http/Middleware/Authenticate.php"
PHP_ELSE = """\
<?php
class Authenticate
{
    public function handle($request, $next)
    {
        if (!Auth::check()) {
            throw new AuthenticationException();
        } else {
            return $next($request);
        }
    }
}
"""
PHP_FLAT = """\
<?php
class Authenticate
{
    public function handle($request, $next)
    {
        if (!Auth::check()) {
            throw new AuthenticationException();
        }
        return $next($request);
    }
}
"""


def test_php_else_after_throw_is_neutral(lab: Lab) -> None:
    assert lab.edited(PHP_PATH, PHP_ELSE, PHP_FLAT) == set()


RB_PATH = "app/controllers/login_controller.rb"
RB_ELSE = """\
class LoginController < ApplicationController
  def create
    user = User.find_by(email: params[:email])
    if !user&.authenticate(params[:password])
      redirect_to "/login"
      return
    else
      session[:user_id] = user.id
      redirect_to "/"
    end
  end
end
"""
RB_FLAT = """\
class LoginController < ApplicationController
  def create
    user = User.find_by(email: params[:email])
    if !user&.authenticate(params[:password])
      redirect_to "/login"
      return
    end
    session[:user_id] = user.id
    redirect_to "/"
  end
end
"""


def test_ruby_else_after_return_is_neutral(lab: Lab) -> None:
    assert lab.edited(RB_PATH, RB_ELSE, RB_FLAT) == set()


def test_ruby_if_used_as_a_value_is_not_read_so(lab: Lab) -> None:
    """``x = if ...``: the ``if`` is an expression, its ``else`` is its value."""
    before = RB_ELSE.replace("    if !user", "    result = if !user")
    after = RB_FLAT.replace("    if !user", "    result = if !user")
    assert lab.edited(RB_PATH, before, after)
