"""What the classifier sees beyond one path's changed lines (issue 12, THREATS.md G45-G49)."""

from __future__ import annotations

import json

import pytest

from provenance.models import FileChange
from provenance.record.classify import Classifier

CLF = Classifier.build()
ZERO = "0" * 40


def added_file(path: str, text: str) -> FileChange:
    """A file added with ``text``, its blob read as the gate reads wanted sources."""
    lines = tuple(text.splitlines())
    return FileChange(
        path, path, "A", "000000", "100644", lines, (), old_oid=ZERO, new_oid="1" * 40,
        new_source=text,
    )  # fmt: skip


def edited_file(path: str, old: str, new: str) -> FileChange:
    """A modification rewriting the file, whose whole old and new blobs are known."""
    return FileChange(
        path, path, "M", "100644", "100644", tuple(new.splitlines()), tuple(old.splitlines()),
        old_oid="1" * 40, new_oid="2" * 40, old_source=old, new_source=new,
    )  # fmt: skip


# --- G46: configuration in translation and snapshot folders --------------------------------

CLUSTER_ADMIN = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: agent-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: agent
  namespace: default
"""
IAM_JSON = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        "AssumeRolePolicyDocument": {"Principal": {"AWS": "*"}},
        "role": "admin",
    },
    indent=2,
)
ENV = "SECRET_KEY=change-me\nADMIN_PASSWORD=hunter2\n"
TERRAFORM = 'resource "aws_iam_role_policy" "agent" {\n  role = aws_iam_role.agent.id\n}\n'


@pytest.mark.parametrize("folder", ["locale", "locales", "i18n", "l10n", "translations", "lang"])
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("crb.yaml", CLUSTER_ADMIN),
        ("en.yml", CLUSTER_ADMIN),  # named like a catalogue, but it is a manifest
        ("policy.json", IAM_JSON),
        ("en.json", IAM_JSON),
        (".env", ENV),
        ("main.tf", TERRAFORM),
    ],
)
def test_config_in_translation_folders_is_read(folder: str, name: str, text: str) -> None:
    """THREATS.md G46: YAML, JSON, .env and Terraform there are classified as anywhere else."""
    path = f"deploy/{folder}/{name}"
    assert CLF.classify(added_file(path, text)), path
    # without its blob the gate cannot show it is a catalogue: never inert
    bare = FileChange(path, path, "A", "000000", "100644", tuple(text.splitlines()))
    assert CLF.classify(bare), path


def test_config_in_snapshot_folders_is_read() -> None:
    """THREATS.md G46: only snapshot files are inert in ``__snapshots__/``."""
    assert CLF.classify(added_file("src/__snapshots__/rbac.yaml", CLUSTER_ADMIN))
    assert CLF.classify(added_file("src/__snapshots__/.env", ENV))


RAILS_LOCALE = """\
# Devise translations
en:
  devise:
    failure:
      invalid: "Invalid %{authentication_keys} or password."
      locked: "Your account is locked."
    sessions:
      signed_in: "Signed in successfully."
"""
I18NEXT = '{\n  "login": "Log in",\n  "password": "Password",\n  "admin": {"title": "Admin"}\n}\n'
MINIFLUX = (
    '{\n  "form.prefs.label.password": "Passwort",\n  "n.feeds": ["%d Feed", "%d Feeds"]\n}\n'
)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("config/locales/devise.en.yml", RAILS_LOCALE),
        ("config/locales/en.yml", RAILS_LOCALE),
        ("public/locales/en/common.json", I18NEXT),
        ("locale/translations/de_DE.json", MINIFLUX),
        ("src/i18n/messages.pt-BR.json", I18NEXT),
        ("locale/de/LC_MESSAGES/django.po", 'msgid "Password"\nmsgstr "Passwort"\n'),
        ("lib/l10n/app_en.arb", '{"loginButton": "Sign in with password"}\n'),
        ("i18n/Strings.resx", '<data name="Password"><value>Password</value></data>\n'),
        ("ios/en.lproj/Localizable.strings", '"login" = "Log in with your password";\n'),
        ("src/__snapshots__/Login.test.tsx.snap", "exports[`login`] = `<input type=password>`;\n"),
        ("tests/snapshots/__snapshots__/test_auth.ambr", "# name: test_login\n  'password'\n"),
    ],
)
def test_real_catalogues_stay_inert(path: str, text: str) -> None:
    """THREATS.md G46: translation catalogues and snapshot files are not identity code."""
    assert CLF.classify(added_file(path, text)) == (), path


@pytest.mark.parametrize(
    "text",
    [
        RAILS_LOCALE + "kind: ClusterRoleBinding\n",  # a second top-level key that is no locale
        RAILS_LOCALE.replace('"Signed in successfully."', "!ruby/object:Admin {}"),  # a tag
        "en:\n  a: b\n---\nkind: ClusterRoleBinding\n",  # a second document
        "  indented: first\nen:\n  a: b\n",
    ],
)
def test_yaml_that_only_looks_like_a_catalogue_is_read(text: str) -> None:
    change = added_file("config/locales/en.yml", text + "password: x\nsecret_key: y\n")
    assert CLF.classify(change)


def test_catalogue_turned_into_config_is_read_on_either_side() -> None:
    """Both sides must be catalogues: a manifest replaced by a catalogue still needs evidence."""
    assert CLF.classify(edited_file("deploy/locale/en.yml", CLUSTER_ADMIN, RAILS_LOCALE))
    assert CLF.classify(edited_file("deploy/locale/en.yml", RAILS_LOCALE, CLUSTER_ADMIN))
    assert CLF.classify(edited_file("deploy/locale/en.yml", RAILS_LOCALE, RAILS_LOCALE)) == ()


def test_only_json_and_yaml_in_translation_folders_want_their_source() -> None:
    assert CLF.wants_source(added_file("locale/translations/de_DE.json", "{}"))
    assert CLF.wants_source(added_file("config/locales/en.yml", "en:\n"))
    assert not CLF.wants_source(added_file("config/settings.yml", "a: b\n"))
    assert not CLF.wants_source(added_file("locale/de/django.po", ""))
