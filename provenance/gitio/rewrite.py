"""What a rewrite should have produced: the sources' changes applied again onto NEW's parent.

A rewritten commit (amend, rebase, cherry-pick, squash) claims to carry the changes of its
sources. Each source is a step ``base..head`` (a single commit is ``parent..commit``); replaying
the steps is git's own three-way merge with the step's base as merge base, ours the tree so
far (starting at NEW's parent) and theirs the step's head. ``git merge-tree --write-tree``
before git 2.40 takes no ``--merge-base``, so each step merges two synthetic commits (fixed
identity and date, so the same inputs give the same objects) whose only common ancestor
carries the base's tree. Everything runs in the config-free sandbox of
:mod:`provenance.gitio.walk` (no merge drivers, attributes or hooks of the repository apply);
like the remerge diff of merges, it writes objects but moves no ref.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from provenance.errors import GitError
from provenance.gitio.runner import Git
from provenance.gitio.walk import Sandbox

_SYNTHETIC = {
    "GIT_AUTHOR_NAME": "provenance",
    "GIT_AUTHOR_EMAIL": "provenance@invalid",
    "GIT_AUTHOR_DATE": "@1 +0000",
    "GIT_COMMITTER_NAME": "provenance",
    "GIT_COMMITTER_EMAIL": "provenance@invalid",
    "GIT_COMMITTER_DATE": "@1 +0000",
}


def _commit(box: Sandbox, tree: str, parent: str | None) -> str:
    """A synthetic commit of ``tree`` (a tree id) on ``parent``."""
    args = ["commit-tree", "-m", "provenance: rewrite check"]
    args += ["-p", parent] if parent else []
    proc = box.git.run(*args, tree, env={**box.env, **_SYNTHETIC})
    return proc.stdout.decode().strip()


def _merged(box: Sandbox, ours: str, theirs: str) -> str:
    proc = box.git.run(
        "merge-tree", "--write-tree", "--no-messages", ours, theirs, check=False, env=box.env
    )
    merged = proc.stdout.decode().split("\n", 1)[0].strip()
    if proc.returncode not in (0, 1) or not merged:
        msg = proc.stderr.decode(errors="replace").strip()
        raise GitError(f"git merge-tree failed: {msg}")
    return merged


def _merge_base_is(box: Sandbox, ours: str, theirs: str, base: str) -> bool:
    proc = box.git.run("merge-base", "--all", ours, theirs, check=False, env=box.env)
    return proc.returncode == 0 and proc.stdout.decode().split() == [base]


def replay(
    box: Sandbox, onto: str, steps: Sequence[tuple[str, str]], trees: Mapping[str, str]
) -> str:
    """The tree after merging each ``(base, head)`` step, in order, onto commit ``onto``.

    ``trees`` maps every commit named to its tree. A step onto its own base's tree is its
    head's tree; a first step whose base is already the only merge base of ``onto`` and its
    head merges the real commits; any other step merges synthetic ones. A conflicted step
    leaves git's conflict markers in the tree, which then differs from any resolution on that
    path: the caller compares only the paths it cares about.
    """
    tree = trees[onto]
    for n, (base, head) in enumerate(steps):
        if tree == trees[base]:
            tree = trees[head]
        elif n == 0 and _merge_base_is(box, onto, head, base):
            tree = _merged(box, onto, head)
        else:
            root = _commit(box, trees[base], None)
            tree = _merged(box, _commit(box, tree, root), _commit(box, trees[head], root))
    return tree


def differing(box: Sandbox, tree_a: str, tree_b: str, paths: Iterable[str]) -> list[str]:
    """Which of ``paths`` differ (content, mode or presence) between two trees."""
    wanted = sorted(set(paths))
    if not wanted:
        return []
    proc = box.git.run(
        "diff-tree", "-r", "-z", "--no-renames", "--name-only", tree_a, tree_b, "--", *wanted,
        env={**box.env, "GIT_LITERAL_PATHSPECS": "1"},
    )  # fmt: skip
    return sorted({p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p})


def patch_ids(git: Git, include: Sequence[str], exclude: Sequence[str] = (), *,
              no_walk: bool = False) -> dict[str, str]:  # fmt: skip
    """Commit -> ``git patch-id --stable`` of its diff, for non-merge commits of the walk."""
    if not include:
        return {}
    args = ["log", "-p", "--no-merges", "--no-color", "--no-ext-diff", "--format=commit %H"]
    args += ["--no-walk"] if no_walk else []
    args += [*include, *(["--not", *exclude] if exclude else []), "--"]
    patches = git.out(*args)
    out: dict[str, str] = {}
    for line in git.out("patch-id", "--stable", input=patches).decode().splitlines():
        pid, _, sha = line.partition(" ")
        if sha:
            out[sha] = pid
    return out


def ref_tips(git: Git, patterns: Sequence[str]) -> list[str]:
    """Commits at the tips of refs matching ``patterns`` (``for-each-ref`` patterns)."""
    out = git.out("for-each-ref", "--format=%(objectname) %(objecttype)", "--", *patterns)
    return list(dict.fromkeys(
        oid for oid, _, kind in (ln.partition(" ") for ln in out.decode().splitlines())
        if kind == "commit"
    ))  # fmt: skip


def merge_base(git: Git, a: str, b: str) -> str | None:
    """The best common ancestor of two commits, or ``None``."""
    proc = git.run("merge-base", a, b, check=False)
    base = proc.stdout.decode().split()
    return base[0] if proc.returncode == 0 and base else None


__all__ = ["differing", "merge_base", "patch_ids", "ref_tips", "replay"]
