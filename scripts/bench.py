"""Release-gate benchmark: builds a repository, stamps ~20% of it, times the gate vs baselines.

Prints ratios against baselines measured in the same process:
  floor  = `git log --raw -p BASE..HEAD` (what any tool must at least read)
  classify / verify = provenance's library calls for BASE..HEAD (what the CLI runs)
  naive  = per identity commit: `git notes show` + a fresh sigstore Verifier per attestation
  naive-cli = the same with the `sigstore verify identity` CLI, a fresh process per attestation
              (timed on a sample, scaled linearly; the output says how many)
Targets (issue #3): classify <= 2x floor, verify <= 4x floor, verify >= 10x faster than naive.

--real (issue #16) instead times whole processes on real history, paired run by run:
classify vs `git log --raw -p` on Lobsters (target <= 3x) and on a generated large-diff
history (target <= 1.5x), and the gate with 20% attested vs classify (target <= 2x).
--links SHARE (issue 15) times the gate on the same range twice: with no links, and with SHARE
of the attested commits reached through 1:1 rewrite links (target: within 1.5x).

--audit (issues #6, #19; scripts/bench_audit.py) instead fills an index (a SQLite file, or
--db postgresql://...) with change attestations cloned from real, verified ones across many
repositories, with four writers, and times each query of `provenance query` (best of 5).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity

from provenance.app.gate import classify_range, verify_range
from provenance.app.options import VerifyOptions
from provenance.app.stamp import stamp
from provenance.devinstance import DevInstance
from provenance.gitio import Git, read_commit
from provenance.policy import render_template
from provenance.record.change import SessionContext, prompt_from_text
from provenance.sign.signing import SigningOptions

AGENT = "agent-bot@example.com"
IDENTITY_FILES = [
    ("app/auth/sso.py", "def callback(request):\n    token = oauth.authorize_access_token()\n"),
    (
        "app/utils/helpers.py",
        "import jwt\n\ndef check(t, k):\n    return jwt.decode(t, k, algorithms=['HS256'])\n",
    ),
    (
        "app/permissions.py",
        "def can_edit(user, doc):\n    return user.has_perm('docs.change_doc')\n",
    ),
    (
        "src/middleware/auth.ts",
        "export function requireAuth(req, res, next) {\n"
        "  if (!req.session.user) return res.sendStatus(401);\n  next();\n}\n",
    ),
    (
        "internal/scim/users.go",
        "func (h *Handler) Deprovision(w http.ResponseWriter, r *http.Request) {\n}\n",
    ),
]
OTHER_FILES = [
    "docs/guide.md",
    "static/site.css",
    "app/views/home.py",
    "src/components/Chart.tsx",
    "internal/metrics/counter.go",
    "README.md",
    "app/models/invoice.py",
]


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    return (
        subprocess.run(
            ["git", "-C", str(repo), *args], input=input, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )


def build_repo(
    repo: Path, n: int, share: float, issuer: str, rng: random.Random, linked: float = 0.0
) -> tuple[list[int], dict[int, int]]:
    """fast-import n commits after a policy commit; returns the marks of identity commits, and
    for a ``linked`` share of them the mark of a twin commit (same change, same parent, on
    ``refs/bench/sources``) that is stamped in its place and linked (a rewrite's source)."""
    git(repo, "init", "-q", "-b", "main")
    policy = render_template(issuer, AGENT).encode()
    parts = [
        b"commit refs/heads/main\nmark :1\ncommitter D <d@e> 1700000000 +0000\ndata 6\npolicy\n",
        b"M 100644 inline .provenance/policy.toml\ndata %d\n%s\n" % (len(policy), policy),
    ]
    identity_marks = []
    twins: dict[int, int] = {}
    pick = random.Random(11)  # noqa: S311 - its own stream: the same repository for any share
    last_path = ""
    for i in range(2, n + 2):
        is_id = rng.random() < share
        path, body = rng.choice(IDENTITY_FILES) if is_id else (rng.choice(OTHER_FILES), "")
        # a twin made before commit i-1 landed (a rebase's source), unless both touch one file
        twin_parent = i - 2 if i > 2 and path != last_path else i - 1
        last_path = path
        text = (body + "".join(f"line {i} {j} {rng.random()}\n" for j in range(20))).encode()
        parts.append(
            b"commit refs/heads/main\nmark :%d\ncommitter D <d@e> %d +0000\n"
            b"data 4\nc%03d\nfrom :%d\n" % (i, 1700000000 + i, i % 1000, i - 1)
        )
        change = b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(text), text)
        parts.append(change)
        if is_id:
            identity_marks.append(i)
        if is_id and linked and pick.random() < linked:
            twin = 1_000_000 + i
            parts.append(
                b"commit refs/bench/sources\nmark :%d\ncommitter D <d@e> %d +0000\n"
                b"data 4\ns%03d\nfrom :%d\n" % (twin, 1600000000 + i, i % 1000, twin_parent)
            )
            parts.append(change)
            twins[i] = twin
    marks = repo / "marks"
    git(repo, "fast-import", "--quiet", f"--export-marks={marks}", input=b"".join(parts))
    return identity_marks, twins


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _stamp_all(inst: DevInstance, repo: Path, shas: list[str]) -> None:
    session = SessionContext(
        tool="bench-agent", tool_version="1", model="m", prompter="p",
        prompt=prompt_from_text(b"x"),
    )  # fmt: skip
    for sha in shas:
        token = inst.issue_token(AGENT)
        signing = SigningOptions(identity_token=token, trust_config=inst.trust_config_path)
        stamp(repo, sha, session, signing)


def links_bench(n: int, share: float, linked: float, rounds: int = 5) -> int:
    """The gate on the same range with no links, and with ``linked`` of the attested commits
    reached through links (their twins are stamped and linked 1:1, as a rebase leaves them).

    Both repositories are built first; then the two are timed alternately, ``rounds`` times
    each, so a machine whose load drifts weighs on both alike (best of each is reported).
    """
    from provenance.app.link import link

    tmp = Path(tempfile.mkdtemp(prefix="provenance-bench-links-"))
    runs: dict[float, tuple[Path, str, VerifyOptions]] = {}
    with DevInstance(tmp / "sigstore") as inst:
        options = VerifyOptions(trusted_root=inst.trusted_root_path, offline=True)
        for fraction in (0.0, linked):
            repo = tmp / f"repo-{fraction}"
            repo.mkdir()
            rng = random.Random(7)  # noqa: S311 - reproducible fixture data
            marks, twins = build_repo(repo, n, share, inst.default_issuer, rng, fraction)
            sha = dict(line.split() for line in (repo / "marks").read_text().splitlines())
            stamped = [sha[f":{twins.get(m, m)}"] for m in marks]
            print(f"{fraction:.0%} linked: stamping {len(stamped)}...", file=sys.stderr)
            _stamp_all(inst, repo, stamped)
            for main_mark, twin in twins.items():
                link(repo, sha[f":{main_mark}"], [sha[f":{twin}"]])
            spec = f"{sha[':1']}..main"
            report = verify_range(repo, spec, options)
            assert report, "the bench repository must pass the gate"
            attested = [c for c in report.commits if c.identity_related]
            through = sum(1 for c in attested if c.via)
            print(f"{fraction:.0%} linked: {through} of {len(attested)} attested commits "
                  "pass through links")  # fmt: skip
            runs[fraction] = (repo, spec, options)
        times: dict[float, list[float]] = {f: [] for f in runs}
        for _ in range(rounds):
            for fraction, (repo, spec, opts) in runs.items():
                times[fraction].append(timed(lambda: verify_range(repo, spec, opts), repeat=1))  # noqa: B023
    best = {f: min(ts) for f, ts in times.items()}
    for fraction, ts in times.items():
        shown = " ".join(f"{t:.2f}" for t in ts)
        print(f"verify, {fraction:.0%} of attested commits linked   best {best[fraction]:8.3f} s"
              f"   (runs: {shown})")  # fmt: skip
    ratio = best[linked] / best[0.0]
    print(f"links: {linked:.0%} linked / none = {ratio:5.2f}x   (target <= 1.5x)")
    return 0


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_audit import add_audit_arguments, audit_bench  # beside this script

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--commits", type=int, default=2000)
    ap.add_argument("--identity-share", type=float, default=0.2)
    ap.add_argument(
        "--cli-sample",
        type=int,
        default=20,
        help="attestations verified with the sigstore CLI (then scaled)",
    )
    ap.add_argument(
        "--real",
        action="store_true",
        help="instead: whole processes on real history, paired run by run (bench_real.py)",
    )
    ap.add_argument("--runs", type=int, default=5, help="pairs per --real measurement")
    ap.add_argument("--no-gate", action="store_true", help="--real without the gate pair")
    ap.add_argument(
        "--links",
        type=float,
        default=None,
        metavar="SHARE",
        help="instead of the baselines: the gate with no links vs SHARE of the attested "
        "commits reached through rewrite links (issue 15: within 1.5x)",
    )
    add_audit_arguments(ap)
    args = ap.parse_args()
    if args.real:
        from bench_real import run

        return run(args.runs, gate=not args.no_gate)
    if args.links is not None:
        return links_bench(args.commits, args.identity_share, args.links)
    if args.audit:
        return audit_bench(args)
    rng = random.Random(7)  # noqa: S311 - reproducible fixture data, not cryptography
    tmp = Path(tempfile.mkdtemp(prefix="provenance-bench-"))
    with DevInstance(tmp / "sigstore") as inst:
        repo = tmp / "repo"
        repo.mkdir()
        marks, _ = build_repo(repo, args.commits, args.identity_share, inst.default_issuer, rng)
        mark_to_sha = dict(line.split() for line in (repo / "marks").read_text().splitlines())
        base = mark_to_sha[":1"]
        identity = [mark_to_sha[f":{m}"] for m in marks]
        print(
            f"repository: {args.commits} commits, {len(identity)} identity-related; stamping...",
            file=sys.stderr,
        )
        session = SessionContext(
            tool="bench-agent",
            tool_version="1",
            model="m",
            prompter="p",
            prompt=prompt_from_text(b"x"),
        )
        start = time.perf_counter()
        for sha in identity:
            token = inst.issue_token(AGENT)
            stamp(
                repo,
                sha,
                session,
                SigningOptions(identity_token=token, trust_config=inst.trust_config_path),
            )
        stamp_each = (time.perf_counter() - start) / max(1, len(identity))
        spec = f"{base}..main"
        options = VerifyOptions(trusted_root=inst.trusted_root_path, offline=True)
        floor = timed(lambda: git(repo, "log", "--raw", "-p", spec))
        t_classify = timed(lambda: classify_range(repo, spec))
        report = verify_range(repo, spec, options)
        assert report, "the bench repository must pass the gate"
        t_verify = timed(lambda: verify_range(repo, spec, options))
        t_screen = _screen_cost(repo, base, identity, options)

        def naive() -> None:
            for sha in identity:
                for line in git(
                    repo, "notes", "--ref=refs/notes/provenance", "show", sha
                ).splitlines():
                    verifier = Verifier(
                        trusted_root=TrustedRoot.from_file(str(inst.trusted_root_path))
                    )
                    verifier.verify_dsse(
                        Bundle.from_json(line), Identity(identity=AGENT, issuer=inst.default_issuer)
                    )

        t_naive = timed(naive, repeat=1)
        sample = identity[: args.cli_sample]

        def naive_cli() -> None:
            for sha in sample:
                digest = read_commit(Git.discover(repo), sha).digest
                for i, line in enumerate(
                    git(repo, "notes", "--ref=refs/notes/provenance", "show", sha).splitlines()
                ):
                    bundle = tmp / f"b{i}.json"
                    bundle.write_text(line)
                    subprocess.run(
                        [
                            sys.executable,
                            "-m",
                            "sigstore",
                            "--trust-config",
                            str(inst.trust_config_path),
                            "verify",
                            "identity",
                            "--offline",
                            "--bundle",
                            str(bundle),
                            "--cert-identity",
                            AGENT,
                            "--cert-oidc-issuer",
                            inst.default_issuer,
                            f"sha256:{digest}",
                        ],
                        check=True,
                        capture_output=True,
                    )

        t_cli = timed(naive_cli, repeat=1) * len(identity) / max(1, len(sample))
    print(f"commits={args.commits} identity_related={len(identity)} (best of 3; naive once)")
    print(f"stamp (in-process, devinstance)   {stamp_each * 1000:8.1f} ms per commit")
    print(f"floor git log --raw -p            {floor:8.3f} s")
    print(
        f"provenance classify               {t_classify:8.3f} s   {t_classify / floor:5.2f}x floor"
        f"   (target <= 2x)"
    )
    print(
        f"provenance verify (gate)          {t_verify:8.3f} s   {t_verify / floor:5.2f}x floor"
        f"   (target <= 4x)"
    )
    n_inproc, n_cli = t_naive / t_verify, t_cli / t_verify
    print(f"naive in-process fresh Verifier   {t_naive:8.3f} s   gate is {n_inproc:5.1f}x faster")
    print(
        f"naive sigstore CLI per attestation {t_cli:8.3f} s   gate is {n_cli:5.1f}x faster"
        f"   (target >= 10x; CLI timed on {len(sample)} attestations, scaled to {len(identity)})"
    )
    print(f"verify per identity attestation   {t_verify / max(1, len(identity)) * 1000:8.2f} ms")
    print(f"of which the line screen (G52)    {t_screen * 1000:8.2f} ms per stored line")
    return 0


def _screen_cost(repo: Path, base: str, shas: list[str], options: VerifyOptions) -> float:
    """Per stored line: reading notes through the gate's screen minus reading them plainly."""
    from provenance.app.policy_source import load_policy_at
    from provenance.store import NotesStore

    git_ = Git.discover(repo)
    loaded = load_policy_at(git_, base)
    assert loaded is not None
    trust = options.trust(loaded)
    store = NotesStore(git_)
    lines = sum(len(ls) for ls in store.read_many(shas).values())
    screened = timed(lambda: store.read_many(shas, screen=trust.screen))
    return (screened - timed(lambda: store.read_many(shas))) / max(1, lines)


if __name__ == "__main__":
    raise SystemExit(main())
