"""What the path rules say about one path, and the file kinds it settles to.

A path's facts (rule hits, policy hits, kinds, exclusion, the rules a directory above it
matches) decide which rules may fire on a change there. Inert kinds (documentation,
catalogues, styling, media) escape content rules; a JSON or YAML file in a translation
folder is inert only when both its sides read as a catalogue holding no settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from provenance.classify._catalog import json_catalogue, yaml_catalogue
from provenance.classify._model import PathRule, Strength
from provenance.models import FileChange


@dataclass(frozen=True)
class _Facts:
    """What the path rules say about one path, before exclusion and file-kind filtering."""

    hits: frozenset[str]
    policy: frozenset[str]
    kinds: frozenset[str]
    excluded: bool
    #: The path rules a directory above the file matches (``app/auth/`` of ``admins.txt``).
    dir_hits: frozenset[str] = frozenset()


def _inert_hit(rule: PathRule, rule_id: str, facts: _Facts) -> bool:
    """Does a path rule fire on an inert file (documentation, styling, media, catalogues)?

    Inert kinds escape content rules and weak hints, never an identity directory: a file
    in ``app/auth/`` can be data that code there reads (``admins.txt``, red-team 08). A name
    alone (``docs/auth.md``, ``login.module.css``) does not make one identity-related, except
    for plain text, the format data files take (``auth_admins.txt``); styling and media
    (``icons/auth/discord.svg``) decide nothing anywhere.
    """
    if rule.strength is Strength.WEAK or "decorative" in facts.kinds:
        return False
    return rule_id in facts.dir_hits or "text" in facts.kinds


#: Kinds of program code: a file of one is never inert, wherever it lives (``i18n/auth.py``).
_CODE_KINDS = frozenset({"python", "js", "go", "jvm", "ruby", "php", "code", "shell", "sql"})


def _settle_kinds(kinds: set[str]) -> frozenset[str]:
    """Manifests and code are never inert; inert files get no language; unknown: ``other``.

    Folders such as ``locale/`` or ``__snapshots__/`` make only their translation catalogues
    and snapshot files inert (``.po``, ``.arb``, ``.resx``, ``.snap`` ...). Code, YAML,
    Terraform, JSON or ``.env`` put there is read like anywhere else (THREATS.md G46): a
    ClusterRoleBinding in ``deploy/locale/`` or an auth check in ``app/i18n/auth.py``.
    """
    if {"catalog", "catalog-dir"} <= kinds:
        kinds.add("inert")
    kinds -= {"catalog"}
    if "manifest" in kinds or kinds & _CODE_KINDS:
        kinds.discard("inert")
    elif "inert" in kinds:
        kinds &= {"inert", "test", "text", "decorative", "media"}
    if not kinds - {"test", "catalog-dir"}:
        kinds.add("other")
    return frozenset(kinds)


_CATALOG_CANDIDATE = frozenset({"catalog-dir", "config"})
_INERT = frozenset({"inert"})
_ABSENT_BLOB = frozenset({"0" * 40, "0" * 64})


def _is_catalogue(change: FileChange, facts: list[_Facts]) -> bool:
    """True when every path is a JSON/YAML candidate and both sides read as a catalogue."""
    if not all(f.kinds >= _CATALOG_CANDIDATE for f in facts) or change.binary:
        return False
    if change.source_heads:
        return False  # only the first bytes were read: fail closed
    sides = [
        (path, source, oid)
        for path, source, oid in (
            (change.old_path, change.old_source, change.old_oid),
            (change.path, change.new_source, change.new_oid),
        )
        if oid not in _ABSENT_BLOB
    ]
    if not sides or any(source is None for _, source, _ in sides):
        return False  # not read (too large, or no blob ids): fail closed
    for path, source, _ in sides:
        assert source is not None
        name = path.casefold()
        if name.endswith(".json"):
            ok = json_catalogue(path, source)
        elif name.endswith((".yml", ".yaml")):
            ok = yaml_catalogue(source)
        else:
            ok = False
        if not ok:
            return False
    return True
