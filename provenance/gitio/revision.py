"""User-supplied revisions resolved to exactly one commit, never by git's first-match guess.

``git rev-parse origin/main`` tries six rules in order (``<name>``, ``refs/<name>``,
``refs/tags/<name>``, ``refs/heads/<name>``, ``refs/remotes/<name>``,
``refs/remotes/<name>/HEAD``) and takes the first that exists, so a *tag* named
``origin/main`` silently wins over the remote-tracking branch (THREATS.md G42). Whether git
even warns depends on ``core.warnAmbiguousRefs``, which the repository under test sets.

So a revision's name part must be a full object id, a full ref name (``refs/...``) that
exists, or a short name that exactly one of those rules resolves; a short hex name that is
also a ref is ambiguous too. Suffixes ``~N``, ``^N`` and ``^{commit|tag|object}`` are
applied to the one ref chosen; reflog, upstream and search forms (``@{...}``, ``:/text``,
``^{/text}``) depend on state or text an attacker can write, and are refused.
"""

from __future__ import annotations

import re
from pathlib import Path

from provenance.errors import GitError, Refusal, UsageError
from provenance.gitio.runner import Git
from provenance.reasons import Reason

_FULL_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SHORT_HEX = re.compile(r"[0-9a-fA-F]{4,63}")
#: What may follow the name: ancestry and peeling only.
_SUFFIX = re.compile(r"(?:~[0-9]*|\^[0-9]*|\^\{(?:commit|tag|object)?\})*")
#: git's DWIM rules (refs.c ``ref_rev_parse_rules``), in git's order.
_RULES = (
    "{}",
    "refs/{}",
    "refs/tags/{}",
    "refs/heads/{}",
    "refs/remotes/{}",
    "refs/remotes/{}/HEAD",
)


class RangeError(Refusal, GitError):
    """The range or revision cannot be verified as given (exit 1, with its reason code)."""


#: Kept for callers of the string constant; it is the enum member now.
REVISION_AMBIGUOUS = Reason.REVISION_AMBIGUOUS


def split_revision(rev: str) -> tuple[str, str]:
    """``origin/main~2^{commit}`` -> (``origin/main``, ``~2^{commit}``); odd forms refused."""
    if "@{" in rev or ":" in rev or rev.startswith("-") or not rev:
        raise UsageError(
            f"{rev!r}: reflog, upstream, path and search forms are not accepted here",
            hint="name the commit by id or by ref (refs/remotes/origin/main, v1.2, a1b2c3d~1)",
        )
    cut = min((i for i in (rev.find("~"), rev.find("^")) if i >= 0), default=len(rev))
    name, suffix = rev[:cut], rev[cut:]
    if not _SUFFIX.fullmatch(suffix):
        raise UsageError(
            f"{rev!r}: only ~N, ^N and ^{{commit}} may follow a name",
            hint="name the commit by id or by ref, e.g. v1.2~1",
        )
    return ("HEAD" if name == "@" else name), suffix


def _valid_ref_name(git: Git, name: str) -> bool:
    proc = git.run("check-ref-format", "--allow-onelevel", name, check=False)
    return proc.returncode == 0


def _common_dir(git: Git) -> Path:
    return git.common_dir()


def _root_level_exists(git: Git, name: str, packed: set[str]) -> bool:
    """Does ``$GIT_DIR/<name>`` exist as a ref (loose in the git or common dir, or packed)?"""
    if name in packed:
        return True
    return any((d / name).is_file() for d in (git.root, _common_dir(git)))


def _refs(git: Git) -> dict[str, str]:
    """Every ref under ``refs/`` -> the object it names (loose and packed, this worktree)."""
    out = git.out("for-each-ref", "--format=%(objectname) %(refname)")
    refs: dict[str, str] = {}
    for line in out.decode(errors="surrogateescape").splitlines():
        oid, _, name = line.partition(" ")
        refs[name] = oid
    return refs


def _packed_names(git: Git) -> set[str]:
    """Names in ``packed-refs`` that are not under ``refs/`` (git reads them as refs too)."""
    try:
        text = (_common_dir(git) / "packed-refs").read_text(errors="surrogateescape")
    except OSError:
        return set()
    names = set()
    for line in text.splitlines():
        if line[:1] not in ("#", "^") and " " in line:
            name = line.split(" ", 1)[1]
            if not name.startswith("refs/"):
                names.add(name)
    return names


def ref_candidates(git: Git, name: str) -> list[tuple[str, str]]:
    """Every (full ref name, what to resolve it by) git's rules could read ``name`` as.

    Refs under ``refs/`` resolve by the object id they hold (no further guessing); a
    top-level ref (``HEAD``, ``FETCH_HEAD``) by its own name, git's first rule.
    """
    refs = _refs(git)
    if name.startswith("refs/"):
        return [(name, refs[name])] if name in refs else []
    packed = _packed_names(git)
    found = []
    for rule in _RULES:
        full = rule.format(name)
        if full.startswith("refs/") and full in refs:
            found.append((full, refs[full]))
        elif not full.startswith("refs/") and _root_level_exists(git, full, packed):
            found.append((full, full))
    return found


def _short_objects(git: Git, name: str) -> list[str]:
    """Objects whose id starts with the short hex ``name``."""
    if not _SHORT_HEX.fullmatch(name):
        return []
    proc = git.run("rev-parse", f"--disambiguate={name.lower()}", check=False)
    return proc.stdout.decode().split() if proc.returncode == 0 else []


def _ambiguous(rev: str, candidates: list[str]) -> RangeError:
    listed = ", ".join(candidates)
    return RangeError(
        REVISION_AMBIGUOUS,
        f"{rev!r} is ambiguous: it could name {listed}",
        hint=f"pass the full ref name or commit id you mean (one of: {listed}); "
        "a tag or branch named like another ref must never move the release base",
    )


def _peel(git: Git, target: str, suffix: str) -> str | None:
    proc = git.run(
        "rev-parse", "--verify", "--quiet", "--end-of-options", f"{target}{suffix}^{{commit}}",
        check=False,
    )  # fmt: skip
    sha = proc.stdout.decode().strip()
    return sha if proc.returncode == 0 and _FULL_HEX.fullmatch(sha) else None


def _first_match(git: Git, name: str) -> str | None:
    """The object git itself picks for ``name`` (to check our reading agrees with git's)."""
    proc = git.run(
        "-c", "core.warnAmbiguousRefs=false", "rev-parse", "--verify", "--quiet",
        "--end-of-options", name, check=False,
    )  # fmt: skip
    picked = proc.stdout.decode().strip()
    return picked if proc.returncode == 0 and picked else None


def _by_ref(git: Git, rev: str, name: str, refs: list[tuple[str, str]]) -> str:
    """What to resolve a name that one ref matched by; git's own reading must agree."""
    full, target = refs[0]
    chosen = _peel(git, target, "")
    # git's own first match must be the ref we chose: a rule we do not model (another ref
    # backend, a future git) can only make us refuse, never pick another object.
    git_pick = _first_match(git, name)
    if chosen is not None and git_pick is not None and _peel(git, git_pick, "") != chosen:
        raise _ambiguous(rev, [full, f"what git reads as {name!r}"])
    return target


def _target(git: Git, rev: str, name: str) -> str:
    """The one object id or ref that ``name`` names; never left to git's guessing."""
    if _FULL_HEX.fullmatch(name):
        return name  # a full object id is always the object, whatever refs exist (git too)
    valid = _valid_ref_name(git, name)
    if not valid and not _SHORT_HEX.fullmatch(name):
        raise UsageError(f"{rev!r} is not a valid revision name")
    refs = ref_candidates(git, name) if valid else []
    objects = _short_objects(git, name)
    if len(refs) > 1 or (refs and objects):
        raise _ambiguous(rev, [full for full, _ in refs] + [f"commit id {o}" for o in objects])
    if refs:
        return _by_ref(git, rev, name, refs)
    if len(objects) == 1:
        return objects[0]  # an abbreviated id that is no ref name: the one object it names
    raise UsageError(
        f"{rev!r} is not a commit in this repository"
        + (" (the abbreviated id names several objects)" if objects else ""),
        hint="pass a full commit id, or a branch or tag that exists locally",
    )


def resolve_revision(git: Git, rev: str) -> str:
    """Full commit id of a user-supplied revision, refusing every ambiguous name."""
    name, suffix = split_revision(rev)
    sha = _peel(git, _target(git, rev, name), suffix)
    if sha is None:
        raise UsageError(
            f"{rev!r} is not a commit in this repository",
            hint="pass a commit id, or a branch or tag that exists locally",
        )
    return sha


def upstream_of_head(git: Git) -> str | None:
    """The commit the current branch's upstream names (``None``: no upstream).

    Read for provenance's own use (``approve``'s default base), never from user text, which
    :func:`split_revision` refuses in this form.
    """
    proc = git.run(
        "rev-parse", "--verify", "--quiet", "--end-of-options", "@{upstream}", check=False
    )  # fmt: skip
    sha = proc.stdout.decode().strip()
    return sha if proc.returncode == 0 and sha else None
