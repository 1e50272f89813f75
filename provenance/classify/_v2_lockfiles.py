"""Package versions declared by a manifest or pinned by a lockfile, read with real parsers.

``versions(path, text)`` maps each package a file names to the versions (or version ranges) it
gives it, or returns ``None`` when the format is unknown or the text does not parse, so the
caller can fail closed. JSON, TOML and YAML go through ``json``, ``tomllib`` and PyYAML (aliases
refused, ``_v2_yaml``); XML through ``xml.etree`` (expat refuses entity expansion attacks);
requirement lines through ``packaging``. Formats with no maintained Python parser (``go.mod``,
``Gemfile.lock``, ``yarn.lock`` v1, Gradle scripts, ``Gemfile``) are read by their documented
line grammar.
"""

from __future__ import annotations

import json
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from provenance.classify._v2_yaml import load_yaml

Versions = dict[str, str]


def _collect(pairs: Iterable[tuple[str, object]]) -> Versions:
    """Name -> sorted, comma-joined distinct versions (names case-folded, ``_`` as ``-``)."""
    found: dict[str, set[str]] = {}
    for name, version in pairs:
        if isinstance(name, str) and name:
            key = name.strip().lower().replace("_", "-")
            found.setdefault(key, set()).add(str(version).strip())
    return {k: ",".join(sorted(v)) for k, v in found.items()}


def _spec(value: object) -> object:
    """A dependency's version from a string or a table (``{version = "1"}``, git refs)."""
    if isinstance(value, Mapping):
        keys = ("version", "rev", "tag", "branch", "ref", "git", "path", "url")
        return "|".join(str(value.get(k, "")) for k in keys)
    return value


# --- JavaScript ------------------------------------------------------------------------------

_NPM_SECTIONS = (
    "dependencies", "devDependencies", "peerDependencies", "optionalDependencies",
    "overrides", "resolutions", "bundledDependencies",
)  # fmt: skip


def _package_json(text: str) -> Versions:
    data = json.loads(text)
    pairs = [
        (name, _spec(spec))
        for section in _NPM_SECTIONS
        for name, spec in (data.get(section) or {}).items()
        if isinstance(data.get(section), dict)
    ]
    return _collect(pairs)


def _package_lock(text: str) -> Versions:
    data = json.loads(text)
    pairs: list[tuple[str, object]] = []
    for key, entry in (data.get("packages") or {}).items():
        if key and isinstance(entry, dict):
            name = entry.get("name") or key.rpartition("node_modules/")[2]
            pairs.append((name, entry.get("version", "")))
    stack = [data.get("dependencies") or {}]  # lockfile v1
    while stack:
        deps = stack.pop()
        for name, entry in deps.items():
            if isinstance(entry, dict):
                pairs.append((name, entry.get("version", "")))
                stack.append(entry.get("dependencies") or {})
    return _collect(pairs)


_YARN_HEADER = re.compile(r'^"?((?:@[^@/"\s]+/)?[^@"\s,]+)@')
_YARN_VERSION = re.compile(r'^\s+version:?\s+"?([^"\s]+)"?\s*$')


def _yarn_lock(text: str) -> Versions:
    pairs: list[tuple[str, object]] = []
    name = ""
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            m = _YARN_HEADER.match(line)
            name = m.group(1) if m else ""
        elif name and (m := _YARN_VERSION.match(line)):
            pairs.append((name, m.group(1)))
            name = ""
    return _collect(pairs)


def _pnpm_lock(text: str) -> Versions:
    data = load_yaml(text) or {}
    pairs: list[tuple[str, object]] = []
    for key in data.get("packages") or {}:
        spec = str(key).lstrip("/").split("(", 1)[0]
        name, _, version = spec.rpartition("@")
        pairs.append((name or spec, version))
    for importer in (data.get("importers") or {".": data}).values():
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            for name, entry in ((importer or {}).get(section) or {}).items():
                pairs.append((name, entry.get("version") if isinstance(entry, dict) else entry))
    return _collect(pairs)


# --- Python ----------------------------------------------------------------------------------


def _requirement(line: str) -> tuple[str, str] | None:
    line = line.split(" #", 1)[0].strip()
    if not line or line.startswith(("#", "-", "--")):
        return None
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return ("?" + line, line)  # an unreadable line still counts as a change of itself
    return (req.name, f"{req.specifier}{'@' + req.url if req.url else ''}")


def _requirements_txt(text: str) -> Versions:
    joined = re.sub(r"\\\n", " ", text)
    return _collect(p for line in joined.splitlines() if (p := _requirement(line)) is not None)


def _pyproject(text: str) -> Versions:
    data = tomllib.loads(text)
    project = data.get("project") or {}
    lines = list(project.get("dependencies") or [])
    lines += [d for group in (project.get("optional-dependencies") or {}).values() for d in group]
    lines += [
        d for group in (data.get("dependency-groups") or {}).values() for d in group
        if isinstance(d, str)
    ]  # fmt: skip
    pairs: list[tuple[str, object]] = [
        p for line in lines if (p := _requirement(str(line))) is not None
    ]
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    tables += [g.get("dependencies") for g in (poetry.get("group") or {}).values()]
    pairs += [(n, _spec(v)) for t in tables if isinstance(t, dict) for n, v in t.items()]
    return _collect(pairs)


def _toml_packages(text: str) -> Versions:
    """``poetry.lock``, ``uv.lock``, ``pdm.lock``, ``Cargo.lock``: ``[[package]]`` tables."""
    data = tomllib.loads(text)
    return _collect((p.get("name", ""), p.get("version", "")) for p in data.get("package") or [])


def _pipfile(text: str) -> Versions:
    data = tomllib.loads(text)
    sections = ("packages", "dev-packages")
    return _collect((n, _spec(v)) for s in sections for n, v in (data.get(s) or {}).items())


def _pipfile_lock(text: str) -> Versions:
    data = json.loads(text)
    return _collect(
        (n, _spec(v)) for s in ("default", "develop") for n, v in (data.get(s) or {}).items()
    )


def _environment_yml(text: str) -> Versions:
    data = load_yaml(text) or {}
    pairs: list[tuple[str, object]] = []
    for dep in data.get("dependencies") or []:
        if isinstance(dep, str):
            name, _, version = re.split(r"[=<>!~ ]", dep, maxsplit=1)[0], "", dep
            pairs.append((name, version))
        elif isinstance(dep, dict):
            pairs += [p for line in dep.get("pip") or [] if (p := _requirement(line))]
    return _collect(pairs)


# --- Go, Rust, Ruby, PHP ---------------------------------------------------------------------

_GO_LINE = re.compile(r"^\s*(?:require\s+|replace\s+)?([^\s()]+)(?:\s+(v[^\s]+))?(?:\s*=>\s*(.+))?")


def _go_mod(text: str) -> Versions:
    pairs: list[tuple[str, object]] = []
    block = ""
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if line.endswith("("):
            block = line.split()[0]
            continue
        if line == ")":
            block = ""
            continue
        verb = line.split()[0]
        if block in ("require", "replace") or verb in ("require", "replace"):
            m = _GO_LINE.match(line)
            if m:
                kind = block or verb
                target = m.group(3) or ""
                pairs.append(
                    (m.group(1), f"{kind}:{m.group(2) or ''}{'=>' + target if target else ''}")
                )
    return _collect(pairs)


def _cargo_toml(text: str) -> Versions:
    data = tomllib.loads(text)
    tables = [data.get(k) for k in ("dependencies", "dev-dependencies", "build-dependencies")]
    tables.append((data.get("workspace") or {}).get("dependencies"))
    for target in (data.get("target") or {}).values():
        tables += [target.get(k) for k in ("dependencies", "dev-dependencies")]
    return _collect((n, _spec(v)) for t in tables if isinstance(t, dict) for n, v in t.items())


_GEM_SPEC = re.compile(
    r"^ {4}([^\s(]+) \(([^)]+)\)\s*$|^ {2}([^\s(]+) \(([^)]+)\)(?: sha256=\S+)?$"
)
_GEMFILE = re.compile(r"""^\s*gem\s+["']([^"']+)["']((?:\s*,\s*["'][^"']*["'])*)""")


def _gemfile_lock(text: str) -> Versions:
    pairs = []
    for line in text.splitlines():
        m = _GEM_SPEC.match(line)
        if m:
            pairs.append((m.group(1) or m.group(3), m.group(2) or m.group(4)))
    return _collect(pairs)


def _gemfile(text: str) -> Versions:
    return _collect(
        (m.group(1), m.group(2)) for line in text.splitlines() if (m := _GEMFILE.match(line))
    )


def _composer_json(text: str) -> Versions:
    data = json.loads(text)
    return _collect(
        (n, v) for s in ("require", "require-dev") for n, v in (data.get(s) or {}).items()
    )


def _composer_lock(text: str) -> Versions:
    data = json.loads(text)
    return _collect(
        (p.get("name", ""), p.get("version", ""))
        for s in ("packages", "packages-dev")
        for p in data.get(s) or []
    )


# --- .NET and JVM ----------------------------------------------------------------------------


def _xml(text: str) -> ET.Element:
    root = ET.fromstring(text)  # noqa: S314 -- see the module docstring
    for element in root.iter():  # drop namespaces: {http://maven.apache.org/POM/4.0.0}x -> x
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rsplit("}", 1)[1]
    return root


def _nuget(text: str) -> Versions:
    """``*.csproj``, ``Directory.Packages.props``, ``packages.config``."""
    root = _xml(text)
    pairs = []
    for tag in ("PackageReference", "PackageVersion", "package"):
        for e in root.iter(tag):
            name = e.get("Include") or e.get("Update") or e.get("id") or ""
            version = e.get("Version") or e.get("version") or e.findtext("Version") or ""
            pairs.append((name, version))
    return _collect(pairs)


def _packages_lock_json(text: str) -> Versions:
    data = json.loads(text)
    return _collect(
        (n, (e or {}).get("resolved", ""))
        for framework in (data.get("dependencies") or {}).values()
        for n, e in (framework or {}).items()
    )


def _pom(text: str) -> Versions:
    root = _xml(text)
    properties = {
        e.tag: (e.text or "").strip() for p in root.iter("properties") for e in p
    }  # fmt: skip
    pairs = []
    for dep in root.iter("dependency"):
        name = f"{dep.findtext('groupId', '')}:{dep.findtext('artifactId', '')}"
        version = re.sub(
            r"\$\{([^}]+)\}", lambda m: properties.get(m.group(1), m.group()),
            dep.findtext("version", ""),
        )  # fmt: skip
        pairs.append((name, version))
    return _collect(pairs)


_GRADLE = re.compile(r"""["']([\w.-]+):([\w.-]+):([^"'\s]+)["']""")


def _gradle(text: str) -> Versions:
    return _collect((f"{g}:{a}", v) for g, a, v in _GRADLE.findall(text))


def _gradle_lockfile(text: str) -> Versions:
    pairs = []
    for line in text.splitlines():
        coordinate = line.split("=", 1)[0].strip()
        parts = coordinate.split(":")
        if len(parts) == 3:
            pairs.append((f"{parts[0]}:{parts[1]}", parts[2]))
    return _collect(pairs)


def _version_catalog(text: str) -> Versions:
    data = tomllib.loads(text)
    refs = data.get("versions") or {}
    pairs: list[tuple[str, object]] = []
    for alias, entry in (data.get("libraries") or {}).items():
        if isinstance(entry, str):
            group, _, rest = entry.partition(":")
            artifact, _, pinned = rest.partition(":")
            pairs.append((f"{group}:{artifact}", pinned))
        elif isinstance(entry, dict):
            module = entry.get("module") or f"{entry.get('group', '')}:{entry.get('name', alias)}"
            version: Any = entry.get("version", "")
            if isinstance(version, dict):
                version = refs.get(version.get("ref", ""), version)
            pairs.append((module, version))
    return _collect(pairs)


#: File name (case-folded) or suffix -> parser.
_BY_NAME: dict[str, Callable[[str], Versions]] = {
    "package.json": _package_json,
    "package-lock.json": _package_lock,
    "npm-shrinkwrap.json": _package_lock,
    "yarn.lock": _yarn_lock,
    "pnpm-lock.yaml": _pnpm_lock,
    "pyproject.toml": _pyproject,
    "poetry.lock": _toml_packages,
    "uv.lock": _toml_packages,
    "pdm.lock": _toml_packages,
    "pipfile": _pipfile,
    "pipfile.lock": _pipfile_lock,
    "environment.yml": _environment_yml,
    "go.mod": _go_mod,
    "cargo.toml": _cargo_toml,
    "cargo.lock": _toml_packages,
    "gemfile": _gemfile,
    "gemfile.lock": _gemfile_lock,
    "composer.json": _composer_json,
    "composer.lock": _composer_lock,
    "packages.config": _nuget,
    "directory.packages.props": _nuget,
    "packages.lock.json": _packages_lock_json,
    "pom.xml": _pom,
    "build.gradle": _gradle,
    "build.gradle.kts": _gradle,
    "gradle.lockfile": _gradle_lockfile,
    "libs.versions.toml": _version_catalog,
}
#: Files that only record hashes of what another file pins: a change to them alone changes
#: no version (``go.sum`` holds checksums of every module the graph could reach).
HASH_ONLY = frozenset({"go.sum", "go.work.sum"})


def parser_for(path: str) -> Callable[[str], Versions] | None:
    """The parser for a manifest or lockfile path, or ``None``."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].casefold()
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name.endswith((".csproj", ".fsproj", ".vbproj")):
        return _nuget
    if re.fullmatch(r"(?:requirements|constraints)[\w.-]*\.(?:txt|in)", name) or (
        "/requirements/" in f"/{path.casefold()}" and name.endswith((".txt", ".in"))
    ):
        return _requirements_txt
    return None


def versions(path: str, text: str) -> Versions | None:
    """What ``text`` (the file at ``path``) pins, or ``None`` when it cannot be read."""
    found = _versions(path, text)
    return None if found is None else dict(found)


@lru_cache(maxsize=16)
def _versions(path: str, text: str) -> Versions | None:
    """``versions``, read once per text: a commit's new lockfile is the next one's old."""
    parse = parser_for(path)
    if parse is None:
        return None
    try:
        return parse(text)
    except (ValueError, TypeError, KeyError, AttributeError, ET.ParseError, RecursionError):
        return None  # json, tomllib, YAML and XML errors are ValueError or ParseError


def changed(old: Versions, new: Versions) -> Iterator[str]:
    """Names whose versions differ, were added or were removed."""
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            yield name
