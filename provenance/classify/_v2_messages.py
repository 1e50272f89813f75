"""Files that hold only text for people or for a test runner: message catalogues, snapshots.

Decision 0027. Both are judged by what they parse as, never by their name alone, and both
fail closed (a file that does not parse, or holds anything else, is judged as before):

- **Message catalogues** (Crowdin/i18next JSON, ARB, YAML) in a translation folder
  (``locales/``, ``i18n/``, ``lang/`` ...): the whole file, on every side, parses (standard
  ``json``, PyYAML's safe loader) as a map of string keys whose leaves are strings, nested maps
  or lists of strings, and no entry is a setting. As for ``@1``, a JSON file is named by a
  locale (``locales/de_DE/translation.json``) and a YAML file has only locale codes as
  top-level keys (``de:``): a flat string map such as ``kind: ClusterRoleBinding`` is no
  catalogue (THREATS.md G46). ``@1``'s reading (``_catalog``) counts an
  identity key with a value that is no text for people as a setting (``"client_secret":
  "s3cr3t"``, red-team 08); ``@2`` keeps that, except for an entry whose key is itself a
  sentence (has white space: ``"OAuth client ID": "OAuth-Client-ID"``): natural-language keys
  are how i18next and gettext-style catalogues name a message, and no configuration key
  is spelled so. Content rules then do not run; path rules do.
- **Jest and Vitest snapshots** (``*.snap``): both runners *execute* the file to read it, so a
  snapshot's name is only a claim (THREATS.md G46, red-team 03). It is a test when it parses
  (tree-sitter JavaScript) as nothing but ``exports[`name`] = `text`;`` entries whose strings
  interpolate nothing, plus comments (the ``// Jest Snapshot v1`` header).
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from tree_sitter import Node

from provenance.classify._catalog import _setting, is_locale
from provenance.classify._normalize import words_view
from provenance.classify._v2_catalog import code_catalogue, named_by_locale
from provenance.classify.syntax import MAX_PARSE_BYTES, parse
from provenance.models import FileChange

#: File name endings of data catalogues ``@2`` parses (``.po``/``.xlf`` are inert already).
CATALOGUE_FORMATS = (".json", ".arb", ".yml", ".yaml")
#: Folder names of translation catalogues (a path part, compared case-insensitively).
CATALOGUE_DIRS = frozenset(
    {"locale", "locales", "i18n", "l10n", "lang", "langs", "translation", "translations"}
)
#: Code that translation folders may hold as catalogues (``_v2_catalog``).
CATALOG_CODE = frozenset({"php", "js", "ruby", "python"})
_MAX_NODES = 200_000
_MAX_DEPTH = 32


def catalogue(
    change: FileChange,
    named: list[tuple[str, frozenset[str]]],
    sides: list[tuple[str, str | None]],
) -> bool:
    """True when a change in a translation folder is a catalogue on every side: written as
    code (``_v2_catalog``), or as data that ``@1`` read as settings (``message_catalogue``).

    ``named``: each path (and alias) with its kinds; ``sides``: each present side's path and
    source. Fails closed: an unread side, a path outside a translation folder.
    """
    if not sides or not named or not all("catalog-dir" in kinds for _, kinds in named):
        return False
    if any(kinds & CATALOG_CODE for _, kinds in named):
        return all(named_by_locale(p) for p, _ in named) and all(
            code_catalogue(path, source) for path, source in sides
        )
    return (
        not change.source_heads
        and all(in_catalogue_dir(p) for p, _ in named)
        and all(message_catalogue(path, source) for path, source in sides)
    )


def in_catalogue_dir(path: str) -> bool:
    """True when a folder of ``path`` is a translation folder and its format is parsed here."""
    parts = path.replace("\\", "/").casefold().split("/")
    return parts[-1].endswith(CATALOGUE_FORMATS) and not CATALOGUE_DIRS.isdisjoint(parts[:-1])


def message_catalogue(path: str, source: str | None) -> bool:
    """True when ``source`` (at ``path``) parses as messages only (see the module docstring)."""
    if source is None or not in_catalogue_dir(path):
        return False
    yml = path.casefold().endswith((".yml", ".yaml"))
    try:
        data = yaml.safe_load(source) if yml else json.loads(source)  # YAML tags: an error
    except (ValueError, yaml.YAMLError, RecursionError):
        return False
    if not isinstance(data, dict) or not data:
        return False
    if yml and not all(isinstance(k, str) and is_locale(k) for k in data):
        return False  # Rails and Symfony catalogues: one top-level key per locale
    if not yml and not named_by_locale(path):
        return False  # i18next, Crowdin: ``locales/de_DE/translation.json``, ``de.json``
    return _messages(data, "", "", 0, [_MAX_NODES])


def _messages(value: Any, key: str, words: str, depth: int, budget: list[int]) -> bool:
    """True when ``value`` (under ``key``, whose path reads ``words``) holds messages only."""
    budget[0] -= 1
    if budget[0] < 0 or depth > _MAX_DEPTH:
        return False  # aliases can make a small file a huge tree: fail closed
    if isinstance(value, str):
        return any(c.isspace() for c in key) or not _setting(words, value)
    if isinstance(value, list):
        return all(isinstance(v, str) and _messages(v, key, words, depth, budget) for v in value)
    if not isinstance(value, dict):
        return False  # a number, boolean, null, date: a setting's value, not a message
    for k, v in value.items():
        if not isinstance(k, str):
            return False
        deeper = f"{words} {words_view(k.replace('.', ' '))}"
        if not _messages(v, k, deeper, depth + 1, budget):
            return False
    return True


#: Node types of a snapshot entry's parts (tree-sitter JavaScript).
_TEMPLATE_PARTS = frozenset({"string_fragment", "escape_sequence"})


def snapshot_file(source: str | None) -> bool:
    """True when ``source`` is a Jest/Vitest snapshot: literal ``exports[...] = ...;`` only."""
    if source is None:
        return False
    data = source.encode("utf-8", "surrogateescape")
    if len(data) > MAX_PARSE_BYTES:
        return False
    root = parse(data, "javascript").root_node
    if root.has_error:
        return False
    entries = [c for c in root.children if c.type != "comment"]
    return bool(entries) and all(_entry(c) for c in entries)


def _entry(statement: Node) -> bool:
    """``exports[`name`] = `text`;`` with strings that interpolate nothing."""
    named = [c for c in statement.named_children if c.type != "comment"]
    if statement.type != "expression_statement" or len(named) != 1:
        return False
    assignment = named[0]
    left = assignment.child_by_field_name("left")
    right = assignment.child_by_field_name("right")
    if assignment.type != "assignment_expression" or left is None or right is None:
        return False
    if left.type != "subscript_expression":
        return False
    target = left.child_by_field_name("object")
    index = left.child_by_field_name("index")
    return (
        target is not None
        and target.type == "identifier"
        and target.text == b"exports"
        and index is not None
        and _plain(index)
        and _plain(right)
    )


def _plain(node: Node) -> bool:
    """A string or template literal without substitutions."""
    if node.type not in ("string", "template_string"):
        return False
    return all(c.type in _TEMPLATE_PARTS for c in node.named_children)


def messages_document() -> dict[str, Any]:
    """The stage's tables, for the ruleset digest."""
    return {
        "catalogue_dirs": sorted(CATALOGUE_DIRS),
        "catalogue_formats": list(CATALOGUE_FORMATS),
        "catalogue_leaves": ["str", "list[str]", "map"],
        "message_key": "a key with white space is a message, never a setting",
        "snapshot": "exports[<plain string>] = <plain string>; and comments only",
    }
