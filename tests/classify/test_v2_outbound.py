"""``@2``'s reading of credentials the application only sends to a service it calls
(``_v2_outbound``, ``docs/decisions/0020-credential-use.md``).

IDENTITY-RUBRIC.md counts validating, issuing, storing, rotating and exposing credentials, not
the application acting as the client of another service with a key it already holds. Each
case is committed with real git and judged as the gate judges it; the cases that must still
count are the ones a looser reading would lose (comparison, exposure, issuing, forwarding).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.classify import Classifier, RuleSpec
from provenance.classify._v2_classifier import ClassifierV2
from provenance.classify._v2_outbound_words import RULES
from tests.classify.test_v2_stages import V1, Lab


def _without_stage() -> Classifier:
    clf = Classifier.build()
    assert isinstance(clf, ClassifierV2)
    return clf.ablated(["outbound"])


#: ``@2`` with this stage switched off: each case must exercise a word rule.
WITHOUT = _without_stage()


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


PY_BEFORE = """\
import requests
from django.conf import settings


def notify(channel, url, payload):
    headers = {"Content-Type": "application/json"}
    return requests.post(url, json=payload, headers=headers)
"""

#: (path, before, after): the application sends a credential it holds; no identity change.
SENT = {
    "python-header-dict": (
        "hc/integrations/opsgenie.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            '"application/json"}',
            '"application/json", "Authorization": f"GenieKey {channel.opsgenie.key}"}',
        ),
    ),
    "python-query-from-settings": (
        "hc/lib/matrix.py",
        "from urllib.parse import urlencode\n\n\ndef join(url):\n    return url\n",
        "from urllib.parse import urlencode\n\nfrom django.conf import settings\n\n\n"
        "def join(url):\n"
        '    url += urlencode({"access_token": settings.MATRIX_ACCESS_TOKEN})\n'
        "    return url\n",
    ),
    "python-client-keyword": (
        "hc/integrations/pager.py",
        PY_BEFORE,
        PY_BEFORE.replace("headers=headers)", 'headers={"X-Api-Key": settings.PAGER_API_KEY})'),
    ),
    "go-client-constructor": (
        "internal/integration/integration.go",
        "package integration\n\nfunc Push(u *Integration) {\n}\n",
        "package integration\n\nfunc Push(u *Integration) {\n"
        "\tclient := readeck.NewClient(\n\t\tu.ReadeckURL,\n\t\tu.ReadeckAPIKey,\n\t)\n"
        "\tclient.Send()\n}\n",
    ),
    "js-fetch-nested-headers": (
        "src/integrations/notify.js",
        "export async function notify(url) {\n  return fetch(url, {method: 'POST'});\n}\n",
        "export async function notify(url) {\n"
        "  return fetch(url, {method: 'POST', headers: {Authorization: "
        "`Bearer ${config.apiToken}`}});\n}\n",
    ),
    "ruby-client-keyword": (
        "app/services/notifier.rb",
        "class Notifier\n  def conn\n    Faraday.new(url)\n  end\nend\n",
        "class Notifier\n  def conn\n"
        '    Faraday.new(url, headers: { "Authorization" => "Bearer #{ENV["PUSH_TOKEN"]}" })\n'
        "  end\nend\n",
    ),
    "php-client-options": (
        "app/Services/Notifier.php",
        "<?php\nclass Notifier {\n  public function c() {\n    return new Client([]);\n  }\n}\n",
        "<?php\nclass Notifier {\n  public function c() {\n"
        "    return new Client(['headers' => ['Authorization' => 'Bearer ' . $this->apiKey]]);\n"
        "  }\n}\n",
    ),
    "go-header-set-on-a-new-request": (
        "internal/reader/fetcher/client.go",
        "package fetcher\n\nfunc Get(u string, key string) {\n"
        '\treq, _ := http.NewRequest("GET", u, nil)\n\tclient.Do(req)\n}\n',
        "package fetcher\n\nfunc Get(u string, key string) {\n"
        '\treq, _ := http.NewRequest("GET", u, nil)\n'
        '\treq.Header.Set("Authorization", "Bearer "+config.Opts.APIToken())\n'
        "\tclient.Do(req)\n}\n",
    ),
    "python-header-item": (
        "hc/integrations/opsgenie.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            '    headers = {"Content-Type": "application/json"}\n',
            '    headers = {"Content-Type": "application/json"}\n'
            '    headers["Authorization"] = f"GenieKey {channel.opsgenie.key}"\n',
        ),
    ),
    "js-header-property": (
        "src/integrations/notify.js",
        "export function notify(url) {\n  const headers = {};\n  return send(url, headers);\n}\n",
        "export function notify(url) {\n  const headers = {};\n"
        "  headers.Authorization = `Bearer ${config.apiToken}`;\n  return send(url, headers);\n}\n",
    ),
    "php-http-with-token": (
        "app/Services/Push.php",
        "<?php\nclass Push {\n  public function send($u) {\n"
        "    return Http::post($u, []);\n  }\n}\n",
        "<?php\nclass Push {\n  public function send($u) {\n"
        "    return Http::withToken($this->apiToken)->post($u, []);\n  }\n}\n",
    ),
    "python-client-get": (
        "hc/integrations/status.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            "requests.post(url, json=payload, headers=headers)",
            'requests.get(url, params={"api_key": settings.STATUS_API_KEY})',
        ),
    ),
    "js-xhr-header": (
        "src/integrations/push.js",
        "function push(url) {\n  const xhr = new XMLHttpRequest();\n  xhr.send();\n}\n",
        "function push(url) {\n  const xhr = new XMLHttpRequest();\n"
        "  xhr.setRequestHeader('Authorization', `Token ${settings.pushToken}`);\n"
        "  xhr.send();\n}\n",
    ),
}


@pytest.mark.parametrize("case", sorted(SENT))
def test_a_credential_only_sent_to_another_service_does_not_count(lab: Lab, case: str) -> None:
    """THREATS.md G45 (precision): a key the application holds, sent as a client, changes
    nothing about who can act here; the word rules fired on it before this stage."""
    path, before, after = SENT[case]
    assert lab.rules({path: before}, {path: after}, WITHOUT), "the case must exercise a rule"
    assert not lab.rules({path: before}, {path: after}), case


#: (path, before, after): the credential is validated, exposed, issued, forwarded or stored.
KEPT = {
    "compared-with-incoming": (
        "hc/api/views.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            '    headers = {"Content-Type": "application/json"}\n',
            '    if channel.headers.get("X-Api-Key") != settings.API_KEY:\n        return None\n',
        ),
    ),
    "returned-in-a-response": (
        "hc/front/views.py",
        PY_BEFORE,
        PY_BEFORE
        + '\n\ndef show(project):\n    return JsonResponse({"api_key": project.api_key})\n',
    ),
    "issued-inside-the-call": (
        "hc/integrations/opsgenie.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            "headers=headers)",
            'headers={"Authorization": "Bearer " + make_token(channel.user, 3600)})',
        ),
    ),
    "forwarded-from-the-caller": (
        "hc/integrations/proxy.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            "headers=headers)",
            'headers={"Authorization": request.headers["Authorization"]})',
        ),
    ),
    "user-token-in-a-url": (
        "hc/integrations/callback.py",
        "from urllib.parse import urlencode\n\n\ndef back(cb, token):\n    return cb\n",
        "from urllib.parse import urlencode\n\n\ndef back(cb, token):\n"
        '    return cb + "?" + urlencode({"access_token": token.key})\n',
    ),
    "stored": (
        "hc/integrations/forms.py",
        PY_BEFORE,
        PY_BEFORE + "\n\ndef save(form):\n"
        '    Integration.objects.create(api_key=form.cleaned_data["api_key"])\n',
    ),
    "other-headers-variable": (
        "hc/front/views.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            '{"Content-Type": "application/json"}',
            '{"Content-Type": "application/json", "X-Api-Key": channel.project.api_key}',
        ),
    ),
    "go-header-set-on-the-incoming-request": (
        "internal/api/proxy.go",
        "package http\n\nfunc H(w http.ResponseWriter, r *http.Request) {\n\tnext(w, r)\n}\n",
        "package http\n\nfunc H(w http.ResponseWriter, r *http.Request) {\n"
        '\tr.Header.Set("Authorization", "Bearer "+config.Opts.AdminToken())\n'
        "\tnext(w, r)\n}\n",
    ),
    "minted-by-a-getter": (
        "hc/integrations/opsgenie.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            "headers=headers)",
            'headers={"Authorization": f"Bearer {channel.create_token()}"})',
        ),
    ),
    "signed-by-a-settings-object": (
        "hc/integrations/opsgenie.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            "headers=headers)",
            'headers={"Authorization": settings.signer.sign("token")})',
        ),
    ),
    "oauth-code-exchange": (
        "hc/integrations/github.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            "json=payload, headers=headers)",
            '{"client_secret": settings.GITHUB_CLIENT_SECRET, "grant_type": "authorization_code"})',
        ),
    ),
    "header-set-on-the-incoming-request": (
        "hc/api/hooks.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            '    headers = {"Content-Type": "application/json"}\n',
            '    request.headers["Authorization"] = f"Bearer {settings.ADMIN_TOKEN}"\n'
            '    headers = {"Content-Type": "application/json"}\n',
        ),
    ),
    "header-set-on-an-alias-of-the-incoming-request": (
        "hc/api/hooks.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            '    headers = {"Content-Type": "application/json"}\n',
            "    headers = channel.request.headers\n"
            '    headers["Authorization"] = f"Bearer {settings.ADMIN_TOKEN}"\n',
        ),
    ),
    "gin-header-set-on-the-incoming-request": (
        "internal/api/proxy.go",
        "package api\n\nfunc H(c *gin.Context) {\n\tc.Next()\n}\n",
        "package api\n\nfunc H(c *gin.Context) {\n"
        '\tc.Request.Header.Set("Authorization", "Bearer "+config.Opts.AdminToken())\n'
        "\tc.Next()\n}\n",
    ),
    "read-from-the-incoming-query": (
        "hc/api/views.py",
        PY_BEFORE,
        PY_BEFORE.replace(
            '    headers = {"Content-Type": "application/json"}\n',
            '    key = channel.request.GET.get("api_key")\n'
            '    headers = {"Content-Type": "application/json"}\n',
        ),
    ),
    "go-session-set": (
        "internal/ui/prefs.go",
        "package ui\n\nfunc Login(s *Session) {\n}\n",
        'package ui\n\nfunc Login(s *Session) {\n\ts.Set("api_token", cfg.APIToken)\n}\n',
    ),
}


@pytest.mark.parametrize("case", sorted(KEPT))
def test_validating_exposing_issuing_or_storing_a_credential_still_counts(
    lab: Lab, case: str
) -> None:
    """THREATS.md G45: only a plain read handed to an outbound call is relieved; a credential
    compared, answered, minted, forwarded from the caller or saved still needs review."""
    path, before, after = KEPT[case]
    assert lab.rules({path: before}, {path: after}) & RULES, case


def test_ruleset_1_still_flags_outbound_use(lab: Lab) -> None:
    """``@1`` is frozen: the stage is ``@2``'s alone."""
    path, before, after = SENT["python-header-dict"]
    assert "code.authn" in lab.rules({path: before}, {path: after}, V1)


def test_the_policy_content_rules_still_read_the_line(lab: Lab) -> None:
    """A policy that names a word asks for review wherever it is written: the stage only
    relieves the built-in word rules (THREATS.md G45)."""
    path, before, after = SENT["python-header-dict"]
    policy = Classifier.build(content=[RuleSpec("header", r"Authorization")])
    assert lab.rules({path: before}, {path: after}, policy) == {"policy:content:header"}


def test_nesting_deeper_than_the_walk_keeps_the_line(lab: Lab) -> None:
    """THREATS.md G45: a value nested past the recursion limit cannot be shown to be a plain
    read; the line is read whole instead of crashing the classifier."""
    path, before, _ = SENT["python-header-dict"]
    deep = " + ".join(['"a"'] * 3000)
    after = before.replace(
        "headers=headers)", f'headers={{"Authorization": {deep} + settings.PAGER_API_KEY}})'
    )
    assert "code.authn" in lab.rules({path: before}, {path: after})
