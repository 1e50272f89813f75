"""``scripts/bench --real``: whole processes on real history, paired run by run.

Three measurements, each a ratio of wall times of whole processes started the same way
(``subprocess``, output to a pipe that is read and dropped), run alternately N times so that
load on the machine hits both sides of a pair alike; the median of the per-run ratios is
reported next to every run's seconds.

1. ``small``: the last 2,000 first-parent steps of ``../shared/data/lobsters-history.bundle``
   (a real application's history of small commits, merges included):
   ``provenance classify BASE..HEAD --format json`` against the floor
   ``git log --raw -p BASE..HEAD`` (target <= 3x).
2. ``large``: a history with large diffs, generated from that same repository: 150 commits,
   each rewriting three of its largest source files with 40% of their lines replaced by lines
   of other files (real Ruby, JavaScript and ERB text, so rules see real code); same commands
   (target <= 1.5x).
3. ``gate``: on the small history, ``provenance verify BASE..HEAD`` with a policy outside the
   repository and 20% of the commits attested (signed against the local Sigstore instance,
   verified offline) against ``provenance classify`` with the same policy (target <= 2x).
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT.parent / "shared/data/lobsters-history.bundle"
PROVENANCE = ROOT / ".venv/bin/provenance"
STEPS = 2000


def sh(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    """Run a command and return its stdout (raises on failure)."""
    proc = subprocess.run(args, cwd=cwd, input=input, capture_output=True, check=True)
    return proc.stdout.decode()


def wall(args: Sequence[str], cwd: Path | None = None) -> float:
    """Seconds one whole process takes, its output read and dropped."""
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{args[:3]} exited {proc.returncode}")
    return elapsed


def paired(name: str, floor: Sequence[str], tool: Sequence[str], runs: int, target: float) -> float:
    """Alternate ``floor`` and ``tool`` ``runs`` times; print each pair and the median ratio."""
    wall(floor)
    wall(tool)  # warm the page cache and Python's bytecode cache
    ratios = []
    for n in range(runs):
        f, t = wall(floor), wall(tool)
        ratios.append(t / f)
        print(f"  {name} run {n + 1}: floor {f:7.3f} s   tool {t:7.3f} s   {t / f:6.2f}x")
    median = statistics.median(ratios)
    print(f"{name}: median {median:.2f}x (target <= {target}x)")
    return median


def clone(bundle: Path, dest: Path) -> Path:
    sh("git", "clone", "-q", "--mirror", str(bundle), str(dest))
    return dest


def base_of(repo: Path) -> tuple[str, str]:
    """(BASE, HEAD): HEAD and its ancestor ``STEPS`` first-parent steps back."""
    head = sh("git", "-C", str(repo), "rev-parse", "HEAD").strip()
    chain = sh("git", "-C", str(repo), "rev-list", "--first-parent", head).split()
    return chain[min(STEPS, len(chain) - 1)], head


def large_history(source: Path, dest: Path, commits: int = 150) -> tuple[str, str]:
    """A history of large rewrites of real files (see the module docstring)."""
    rng = random.Random(16)  # noqa: S311 -- reproducible bench data
    listing = sh("git", "-C", str(source), "ls-tree", "-r", "-l", "HEAD").splitlines()
    files = []
    for line in listing:
        meta, path = line.split("\t", 1)
        size = meta.split()[3]
        if path.endswith((".rb", ".js", ".erb")) and size.isdigit():
            files.append((int(size), path, meta.split()[2]))
    files = sorted(files, reverse=True)[:24]
    texts = {p: sh("git", "-C", str(source), "cat-file", "blob", oid) for _, p, oid in files}
    pool = [ln for t in texts.values() for ln in t.splitlines()]
    sh("git", "init", "-q", "-b", "main", str(dest))
    state = dict(texts)
    parts = [b"commit refs/heads/main\nmark :1\ncommitter B <b@e> 1700000000 +0000\ndata 5\nbase\n"]
    for path, text in state.items():
        data = text.encode()
        parts.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
    for i in range(2, commits + 2):
        parts.append(
            b"commit refs/heads/main\nmark :%d\ncommitter B <b@e> %d +0000\ndata 7\nrewrite\n"
            b"from :%d\n" % (i, 1700000000 + i, i - 1)
        )
        for path in rng.sample(sorted(state), 3):
            lines = state[path].splitlines()
            for k in rng.sample(range(len(lines)), int(len(lines) * 0.4)):
                lines[k] = rng.choice(pool)
            state[path] = "\n".join(lines) + "\n"
            data = state[path].encode()
            parts.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
    sh("git", "-C", str(dest), "fast-import", "--quiet", input=b"".join(parts))
    head = sh("git", "-C", str(dest), "rev-parse", "main").strip()
    base = sh("git", "-C", str(dest), "rev-list", "--max-parents=0", head).strip()
    return base, head


def run(runs: int = 5, gate: bool = True) -> int:
    """Build the histories, time the pairs, print the results."""
    if not HISTORY.exists():
        print(f"{HISTORY} is missing", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="provenance-bench-real-") as tmp:
        small = clone(HISTORY, Path(tmp) / "small.git")
        base, head = base_of(small)
        count = sh("git", "-C", str(small), "rev-list", "--count", f"{base}..{head}").strip()
        print(f"small: lobsters-history, {STEPS} first-parent steps, {count} commits")
        spec = f"{base}..{head}"
        floor = ["git", "-C", str(small), "log", "--raw", "-p", spec]
        classify = [str(PROVENANCE), "classify", "--repo", str(small), spec, "--format", "json"]
        paired("small", floor, classify, runs, 3.0)
        large = Path(tmp) / "large"
        lbase, lhead = large_history(small, large)
        lspec = f"{lbase}..{lhead}"
        print(f"large: 150 generated rewrites of real files ({lspec[:25]}...)")
        floor = ["git", "-C", str(large), "log", "--raw", "-p", lspec]
        classify = [str(PROVENANCE), "classify", "--repo", str(large), lspec, "--format", "json"]
        paired("large", floor, classify, runs, 1.5)
        if gate:
            from bench_real_gate import gate_pair

            gate_pair(small, base, head, runs, tmp)
    return 0
