"""``@2`` reads markup and styles for what runs (decision 0026): Vue single-file components by
their blocks, CSS files as styling, CSS in tagged templates as text.

Each neutral case comes with a near miss that must still fire: a binding's expression, a
security-relevant static attribute, the ``<script>`` block, an interpolation in styled CSS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.classify import RULESET_V1, Classifier
from tests.classify.test_v2_stages import Lab

V1 = Classifier.build(rulesets=[RULESET_V1])

SCRIPT = """<script setup lang="ts">
import { computed } from 'vue'
import { userStore } from '@/stores/userStore'

const props = defineProps<{ loading: boolean }>()
const isAdmin = computed(() => userStore.current.is_admin)
</script>
"""
STYLE = """<style scoped>
.panel { color: red; }
</style>
"""


def sfc(template: str, script: str = SCRIPT, style: str = STYLE) -> str:
    return f"<template>\n{template}</template>\n\n{script}\n{style}"


PANEL = """  <div v-if="isAdmin" class="panel">
    <span role="status" class="spinner">Loading</span>
  </div>
  <div v-else class="empty">Nothing</div>
"""
LOGIN = """  <form @submit.prevent="login" action="/login" method="post">
    <input v-model="email" name="email" type="email" class="input" autocomplete="email">
    <input v-model="password" name="password" type="password" class="input">
    <button :disabled="!hasPermission('edit')" class="btn" aria-label="Log in">Log in</button>
  </form>
"""


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


# --- Vue single-file components ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('<span role="status" class="spinner">', '<span role="status" aria-busy="true">'),
        ('<div v-else class="empty">', '<div v-else class="empty muted" role="note">'),
        ("Loading</span>", "Loading, please wait…</span>"),
    ],
)
def test_static_markup_of_a_vue_template_is_neutral(lab: Lab, old: str, new: str) -> None:
    """THREATS.md G45: an ARIA role, a class or a text beside a ``v-if`` is no access decision."""
    before = {"src/components/AdminPanel.vue": sfc(PANEL)}
    after: dict[str, str | None] = {"src/components/AdminPanel.vue": sfc(PANEL.replace(old, new))}
    assert lab.rules(before, after) == set()


def test_style_block_of_a_login_form_is_neutral(lab: Lab) -> None:
    """A ``<style>`` edit in ``auth/LoginForm.vue`` cannot act: ``path.authn`` is not read there."""
    before = {"src/components/auth/LoginForm.vue": sfc(LOGIN)}
    style = "<style scoped>\n@reference '../app.css';\n.panel { color: blue; }\n</style>\n"
    after: dict[str, str | None] = {"src/components/auth/LoginForm.vue": sfc(LOGIN, style=style)}
    assert lab.rules(before, after) == set()
    assert lab.rules(before, after, V1)  # @1 is unchanged


def test_class_edit_in_a_login_form_is_neutral(lab: Lab) -> None:
    before = {"src/components/auth/LoginForm.vue": sfc(LOGIN)}
    after: dict[str, str | None] = {
        "src/components/auth/LoginForm.vue": sfc(LOGIN.replace('class="btn"', 'class="x"'))
    }
    assert lab.rules(before, after) == set()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('v-if="isAdmin"', "v-if=\"user.isAdmin || user.role === 'owner'\""),
        ('v-if="isAdmin"', 'v-show="isAdmin"'),
    ],
)
def test_a_binding_expression_still_counts(lab: Lab, old: str, new: str) -> None:
    """The expression of a binding is code: ``v-if="user.isAdmin"`` is read by the rules."""
    before = {"src/components/AdminPanel.vue": sfc(PANEL)}
    after: dict[str, str | None] = {"src/components/AdminPanel.vue": sfc(PANEL.replace(old, new))}
    assert lab.rules(before, after)


def test_a_disabled_binding_with_a_permission_check_still_counts(lab: Lab) -> None:
    """A ``:disabled`` binding is read as the same expression in a ``.ts`` file is."""
    binding = ":disabled=\"!hasPermission('edit')\""
    before = {"src/components/Editor.vue": sfc(LOGIN.replace(binding, ""))}
    after: dict[str, str | None] = {"src/components/Editor.vue": sfc(LOGIN)}
    assert "code.authz-check" in lab.rules(before, after)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('action="/login"', 'action="https://collect.example/login"'),
        ('name="password" type="password"', 'name="password" type="text"'),
        ('autocomplete="email"', 'autocomplete="on"'),
    ],
)
def test_security_relevant_static_attributes_still_count(lab: Lab, old: str, new: str) -> None:
    """THREATS.md G45: where a login form posts, and what its fields are, is not presentation."""
    before = {"src/components/auth/LoginForm.vue": sfc(LOGIN)}
    after: dict[str, str | None] = {
        "src/components/auth/LoginForm.vue": sfc(LOGIN.replace(old, new))
    }
    assert lab.rules(before, after)


def test_script_block_auth_change_still_counts(lab: Lab) -> None:
    before = {"src/components/AdminPanel.vue": sfc(PANEL)}
    script = SCRIPT.replace("userStore.current.is_admin", "true || userStore.current.is_admin")
    after: dict[str, str | None] = {"src/components/AdminPanel.vue": sfc(PANEL, script=script)}
    assert lab.rules(before, after)


def test_script_block_formatting_is_neutral(lab: Lab) -> None:
    """The neutrality pass reads the ``<script>`` block as TypeScript, at the file's lines."""
    before = {"src/components/auth/LoginForm.vue": sfc(LOGIN)}
    script = SCRIPT.replace(
        "computed(() => userStore.current.is_admin)",
        "computed(\n  () =>\n    userStore.current.is_admin,\n)",
    )
    after: dict[str, str | None] = {"src/components/auth/LoginForm.vue": sfc(LOGIN, script=script)}
    assert lab.rules(before, after) == set()


def test_static_props_of_a_component_still_count(lab: Lab) -> None:
    """A static attribute on a component is a prop its code reads: not presentation."""
    gate = '  <RoleGate permission="users.view"><UserList /></RoleGate>\n'
    before = {"src/components/Users.vue": sfc(gate)}
    after: dict[str, str | None] = {
        "src/components/Users.vue": sfc(gate.replace("users.view", "users.delete"))
    }
    assert lab.rules(before, after)


def test_an_unparsable_vue_file_is_judged_as_before(lab: Lab) -> None:
    """Fail closed: ``{{ a < b }}`` does not parse as HTML, so the file is read whole as today."""
    bad = PANEL.replace("Nothing", "{{ count < 1 }}")
    before = {"src/components/AdminPanel.vue": sfc(bad)}
    after: dict[str, str | None] = {
        "src/components/AdminPanel.vue": sfc(bad.replace('class="spinner"', 'role="menu"'))
    }
    assert lab.rules(before, after) == lab.rules(before, after, V1)


# --- style sheets ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["shared.pcss", "shared.postcss", "shared.css", "shared.scss"])
def test_style_sheets_are_not_read_as_config(lab: Lab, name: str) -> None:
    css = ".login-form { --password-strength: 1; }\n.auth-token { color: red; }\n"
    before = {f"resources/assets/css/{name}": css}
    changed = css.replace("red", "blue") + ".api-key { x: 1 }\n"
    after: dict[str, str | None] = {f"resources/assets/css/{name}": changed}
    assert lab.rules(before, after) == set()


# --- CSS in tagged templates -------------------------------------------------------------------

STYLED = """import styled, { css } from "styled-components";
import { hasRole } from "~/auth";

export const Panel = styled.div<{ admin: boolean }>`
  color: red;
  role: status;
  ${(props) => props.admin && css`
    border: 1px solid;
  `}
`;

export const Title = styled(Heading)`
  font-size: 12px;
`;
"""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("color: red;", "color: blue;\n  password-mask: none;"),
        ("font-size: 12px;", "font-size: 14px;\n  auth: token;"),
        ("border: 1px solid;", "border: 2px solid; /* role admin */"),
    ],
)
def test_css_in_tagged_templates_is_text(lab: Lab, old: str, new: str) -> None:
    before = {"app/components/auth/Panel.tsx": STYLED}
    after: dict[str, str | None] = {"app/components/auth/Panel.tsx": STYLED.replace(old, new)}
    assert lab.rules(before, after) == set()


def test_an_interpolation_in_styled_css_still_counts(lab: Lab) -> None:
    before = {"app/components/auth/Panel.tsx": STYLED}
    new = STYLED.replace("props.admin &&", 'hasRole(props.user, "admin") &&')
    after: dict[str, str | None] = {"app/components/auth/Panel.tsx": new}
    assert lab.rules(before, after)


@pytest.mark.parametrize("tag", ["sql", "gql", "html", ""])
def test_other_templates_are_still_code(lab: Lab, tag: str) -> None:
    """Access filters live in SQL templates: only CSS tags are text."""
    code = f"const q = {tag}`SELECT * FROM docs WHERE team_id = ${{teamId}}`;\n"  # noqa: S608
    new = code.replace("WHERE team_id = ${teamId}", "WHERE role = 'admin' OR is_admin")
    after: dict[str, str | None] = {"app/queries.ts": new}
    rules = lab.rules({"app/queries.ts": code}, after)
    assert rules
