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
