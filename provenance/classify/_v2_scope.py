"""What ``builtin:identity@2`` does not judge by default: tests, docs, tooling, generated code.

IDENTITY-RUBRIC.md: changes only to tests, fixtures, recorded HTTP cassettes, snapshots or docs
are not identity-related, even about auth. Each category is a set of path conventions of the
ecosystems reviewers meet; a policy opts back in with ``[identity] exempt = [...]``.

- ``tests``: test folders (``tests/``, ``spec/``, ``__tests__/``, ``testdata/``, ``fixtures/``,
  ``cassettes/``, ``__mocks__/``, ``e2e/``, C# ``*.Tests/`` ...), test files (``test_*.py``,
  ``*_test.go``, ``*.test.ts``, ``*.spec.js``, ``*_spec.rb``, ``FooTest.php``/``.java``/``.cs``
  through the camel-case spelling ``foo_test``), snapshot files (``*.snap``; a
  ``__snapshots__/`` folder exempts only those, THREATS.md G46), and test runners' settings.
- ``docs``: documentation files anywhere (``*.md``, ``*.rst``, man pages ``*.1``-``*.9``,
  ``README``, ``CHANGELOG``) and what a ``docs/`` or ``doc/`` folder holds *except program code*:
  a Python module under ``docs/`` is imported like any other.
- ``tooling``: settings and baselines of linters, formatters and static analysers, which
  change what a tool reports, never what the application does.

A change is exempt only when every path naming it (both sides of a rename, symlink aliases)
is: moving ``app/auth.py`` to ``tests/auth.py`` removes identity code from the application.
The policy's own globs and content rules, ``.provenance/``, ``.gitattributes``, ``.gitmodules``
and ``CODEOWNERS`` are judged everywhere.

**Generated code.** The rubric counts a generated or minified file only when its path (or
source) says it is identity code, so for a file whose both sides carry a generator's header
(``Code generated ... DO NOT EDIT``, ``@generated``) or that is minified, content rules are
not run; path rules are. The header must be on both sides: adding it is itself a change.
"""

from __future__ import annotations

import re
from typing import Any

#: Kinds whose files a category exempts (matched like every file kind, on normalised paths).
SCOPE_KINDS: dict[str, tuple[str, ...]] = {
    "exempt:tests": (
        *("test/", "tests/", "__tests__/", "__test__/", "spec/", "specs/", "e2e/"),
        *("cypress/", "playwright/", "testdata/", "test_data/", "fixtures/", "__fixtures__/"),
        *("cassettes/", "vcr_cassettes/", "__mocks__/", "*.tests/", "*.snap.new", "*.ambr"),
        *("*_tests/", "*-tests/", "unittests/", "unit_tests/", "integration_tests/"),
        *("test_*.py", "*_test.py", "*_tests.py", "conftest.py", "*_test.go", "*.test.*"),
        *("*.spec.*", "*_spec.rb", "*_test.rb", "*_test.php", "*_test.java", "*_tests.java"),
        *("*_test.kt", "*_test.cs", "*_tests.cs", "*_test.exs", "*_test.dart", "*.stories.*"),
        *("*.snap", "phpunit.xml*", "jest.config.*", "vitest.config.*", "karma.conf.*"),
        *("cypress.config.*", "playwright.config.*", "pytest.ini", ".rspec", ".mocharc*"),
    ),
    "exempt:docs": (
        *("docs/", "doc/", "documentation/", "*.md", "*.markdown", "*.rst", "*.adoc"),
        *("*.asciidoc", "*.1", "*.2", "*.3", "*.4", "*.5", "*.6", "*.7", "*.8"),
        *("*.9", "readme", "readme.*", "changelog", "changelog.*", "changes", "changes.*"),
        *("history.md", "contributing*", "security.md", "mkdocs.yml", ".readthedocs.y*ml"),
    ),
    "exempt:tooling": (
        *(".rubocop*.yml", ".eslintrc*", "eslint.config.*", ".eslintignore", ".prettierrc*"),
        *("prettier.config.*", ".prettierignore", ".stylelintrc*", "stylelint.config.*"),
        *(".editorconfig", "phpstan*.neon*", "psalm*.xml*", "phpcs.xml*", ".php-cs-fixer*"),
        *(".php_cs*", ".golangci.y*ml", ".flake8", "mypy.ini", ".pylintrc", "pylintrc"),
        *("ruff.toml", ".ruff.toml", "brakeman.ignore", ".database_consistency*.y*ml"),
        *(".codeclimate.y*ml", "codecov.y*ml", ".coveragerc", ".markdownlint*", ".yamllint*"),
        *(".hadolint.y*ml", ".erb-lint.yml", ".erb_lint.yml", ".haml-lint.yml", ".jshintrc"),
        *(".rubocop_todo.yml", ".reek.yml", ".slim-lint.yml", ".stylua.toml", "biome.json"),
    ),
}
#: Categories that exempt only files that are not program code, manifests or CI settings
#: (``docs/conf.py`` is imported like any module).
NOT_CODE_ONLY = frozenset({"docs"})
#: The kinds such a category never exempts.
CODE_LIKE = frozenset(
    {"python", "js", "go", "jvm", "ruby", "php", "code", "shell", "sql", "manifest", "ci"}
)


def exempt(kinds: frozenset[str], categories: frozenset[str]) -> bool:
    """True when a path with these file kinds falls under one of the exempt ``categories``."""
    for category in categories:
        if f"exempt:{category}" in kinds and not (category in NOT_CODE_ONLY and kinds & CODE_LIKE):
            return True
    return False


#: A generator's header in the first lines of a file.
_GENERATED = re.compile(
    r"(?:code generated\b.{0,80}\bdo not edit|@generated\b|this file (?:is|was) (?:auto[- ]?)?"
    r"generated\b|auto-?generated (?:file|code)\b|do not edit(?: this file)?[.!]? "
    r"(?:it|this file) (?:is|was) generated)",
    re.IGNORECASE,
)
#: Lines read for a generator's header.
_HEADER_LINES = 12
#: A line this long, or an average this long, marks a minified file.
_MINIFIED_LINE = 5000
_MINIFIED_AVERAGE = 500


def generated(source: str | None) -> bool:
    """True when the first lines of ``source`` carry a code generator's header."""
    if not source:
        return False
    head = "\n".join(source.split("\n", _HEADER_LINES)[:_HEADER_LINES])
    return _GENERATED.search(head) is not None


def minified(source: str | None) -> bool:
    """True when ``source`` is minified: very long lines, or a few long ones on average.

    Lengths count runs of whitespace as one character: a line padded with 4,000 spaces
    before the code is not minified, it hides the code from a reader (THREATS.md A6).
    """
    if not source:
        return False
    lines = source.count("\n") + 1
    longest = max(len(" ".join(line.split())) for line in source.split("\n", 50)[:50])
    dense = len(" ".join(source.split()))
    return longest >= _MINIFIED_LINE or dense / lines >= _MINIFIED_AVERAGE


def scope_document() -> dict[str, Any]:
    """The stage's tables, for the ruleset digest."""
    return {
        "kinds": {k: list(v) for k, v in SCOPE_KINDS.items()},
        "not_code_only": sorted(NOT_CODE_ONLY),
        "generated": _GENERATED.pattern,
        "minified": [_MINIFIED_LINE, _MINIFIED_AVERAGE],
    }
