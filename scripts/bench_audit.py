"""The audit index at scale (``scripts/bench --audit``; issues #6 and #19).

Fills an index with change attestations cloned from real, verified ones (signed on the
devinstance and verified by the verifier's own ``verify_line``), with approvals for ~60%,
spread over ``--audit-repos`` repositories and written by ``--audit-writers`` processes at
once, each repository's rows in one run (one transaction), as ``provenance index`` writes
them; then times each kind of ``provenance query`` (best of 5) and the join ``log`` and
``blame`` use. ``--db`` is a SQLite file (default: a temporary one) or an *empty*
PostgreSQL database (its schema is created here, as ``provenance index --upgrade`` would).

Real history (``--audit-history BUNDLE``, default the lobsters history in ../shared/data):
the last ``--audit-history-commits`` commits are classified, every identity-related one is
stamped on the devinstance, and ``provenance index`` runs on it for real (into ``--db``, as
repository github.com/lobsters/lobsters; then again, incrementally). The changed paths and
the rules that fired on them in those real, verified rows are what the clones carry.

Targets (issue #19, on PostgreSQL, 1,000,000 change attestations over 200 repositories):
the heaviest filter under 1 s, selective ones under 50 ms, filling at >= 10,000 rows/s
with four writers.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import random
import subprocess
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from bench import AGENT, IDENTITY_FILES, build_repo, git, timed

from provenance.app.gate import verify_range
from provenance.app.options import VerifyOptions
from provenance.app.stamp import stamp
from provenance.devinstance import DevInstance
from provenance.gitio import Git, read_commit
from provenance.policy import render_template
from provenance.record.change import SessionContext, prompt_from_text
from provenance.sign.signing import SigningOptions

if TYPE_CHECKING:
    from provenance.audit import AttestationRow, Index, IndexUrl, PathRow, Query

#: A commit's decision as ingest records it: commit, status, reasons, approvers, counted lines.
Standing = tuple[str, str, tuple[str, ...], tuple[str, ...], list[str]]

AUDIT_AGENTS = ["claude-code", "codex", "cursor-agent", "aider", "copilot-agent"]
AUDIT_MODELS = [f"model-{n}" for n in range(8)]
AUDIT_DIRS = ["app/auth", "app/scim", "app/sso", "app/billing", "app/users", "src/middleware",
              "src/components", "internal/rbac", "internal/tokens", "web/pages", "infra/iam",
              "lib/util"]  # fmt: skip
AUDIT_EXTS = [".py", ".ts", ".go", ".rb", ".tf"]


def _real_rows(
    inst: DevInstance, root: Path
) -> tuple[list[AttestationRow], AttestationRow, list[str]]:
    """Two change attestations and one approval, signed, stored and verified for real."""
    from provenance.app.approve import approve, preview
    from provenance.app.policy_source import resolve_policy
    from provenance.audit import AttestationRow
    from provenance.gitio import resolve_commit
    from provenance.predicates import ResourceDescriptor
    from provenance.store import NotesStore
    from provenance.verify.attestation import verify_line

    repo = root / "audit-repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    iss = inst.default_issuer
    policy = render_template(iss, AGENT).replace("required = 0", "required = 1")
    policy += f'\n[[approvers]]\nissuer = "{iss}"\nidentity = "bob@example.com"\nperson = "bob"\n'
    (repo / ".provenance").mkdir()
    (repo / ".provenance" / "policy.toml").write_text(policy)
    shas = []
    for path, body in [(".provenance/policy.toml", None), *IDENTITY_FILES[:2]]:
        if body is not None:
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(body)
        git(repo, "add", "-A")
        git(repo, "-c", "user.name=D", "-c", "user.email=d@e", "commit", "-q", "-m", path)
        shas.append(git(repo, "rev-parse", "HEAD"))
    options = VerifyOptions(trusted_root=inst.trusted_root_path, offline=True)
    skill = ResourceDescriptor(name="skill", version="1", digest={"sha256": "0" * 64})
    for n, sha in enumerate(shas[1:]):
        session = SessionContext(
            tool=AUDIT_AGENTS[n],
            tool_version="1.0",
            model=AUDIT_MODELS[n],
            prompter="alice@example.com",
            prompt=prompt_from_text(b"p"),
            skills=(skill,),
        )
        signing = SigningOptions(
            identity_token=inst.issue_token(AGENT), trust_config=inst.trust_config_path
        )
        stamp(repo, sha, session, signing)
    bob = SigningOptions(
        identity_token=inst.issue_token("bob@example.com"), trust_config=inst.trust_config_path
    )
    approve(repo, preview(repo, shas[1], options, base=shas[0]), "approve", None, bob)
    g = Git.discover(repo)
    loaded = resolve_policy(g, None, resolve_commit(g, "HEAD"))
    trust = options.trust(loaded)
    changes: list[AttestationRow] = []
    approvals: list[AttestationRow] = []
    now = datetime.now(UTC)
    for sha, lines in NotesStore(g).read_many(shas[1:]).items():
        for i, line in enumerate(lines):
            result = verify_line(i, line, read_commit(g, sha), trust)
            assert result.ok, result.reasons
            row = AttestationRow.from_result(
                line, sha, result, verified_at=now, trust_root_digest="sha256:bench",
                policy_digest=loaded.digest,
            )  # fmt: skip
            (changes if row.kind == "change" else approvals).append(row)
    rules = sorted({r for row in changes for p in row.paths for r in p.rules})
    return changes, approvals[0], rules


def _h(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _real_range(
    inst: DevInstance, root: Path, commits: int, rng: random.Random, db: IndexUrl
) -> None:
    """Index, export and verify a real stamped range, online and from the evidence pack."""
    from provenance.app.audit import build_index
    from provenance.app.evidence import export_pack, verify_evidence

    repo = root / "range-repo"
    repo.mkdir()
    marks, _ = build_repo(repo, commits, 0.2, inst.default_issuer, rng)
    mark_to_sha = dict(line.split() for line in (repo / "marks").read_text().splitlines())
    session = SessionContext(
        tool="bench-agent", tool_version="1", model="m", prompter="p", prompt=prompt_from_text(b"x")
    )
    for m in marks:
        signing = SigningOptions(
            identity_token=inst.issue_token(AGENT), trust_config=inst.trust_config_path
        )
        stamp(repo, mark_to_sha[f":{m}"], session, signing)
    spec = f"{mark_to_sha[':1']}..main"
    options = VerifyOptions(trusted_root=inst.trusted_root_path, offline=True)
    start = time.perf_counter()
    stats = build_index(repo, options, db=db, repository="bench/range")
    t_index = time.perf_counter() - start
    t_again = timed(lambda: build_index(repo, options, db=db, repository="bench/range"))
    start = time.perf_counter()
    export_pack(repo, spec, root / "pack", options)
    t_export = time.perf_counter() - start
    online = verify_range(repo, spec, options)
    t_online = timed(lambda: verify_range(repo, spec, options))
    # the auditor pins the root they trust (a pack's own root proves nothing)
    pack = verify_evidence(repo, spec, root / "pack", options)
    t_pack = timed(lambda: verify_evidence(repo, spec, root / "pack", options))
    same = [(c.commit, c.status) for c in online.commits] == [
        (c.commit, c.status) for c in pack.commits
    ]
    print(f"real range: {commits} commits, {len(marks)} stamped (best of 3 unless noted)")
    rows = [
        (f"provenance index (verify + ingest {stats.new_lines} lines, once)", t_index),
        ("provenance index again (incremental, nothing new)", t_again),
        ("provenance export BASE..HEAD (once)", t_export),
        ("provenance verify BASE..HEAD (online, notes)", t_online),
        (f"provenance verify --evidence (offline, pack; same verdict: {same})", t_pack),
    ]
    for label, seconds in rows:
        print(f"  {label:66} {seconds:7.3f} s")


def synthetic_shapes(rules: list[str], count: int = 4000) -> list[tuple[PathRow, ...]]:
    """Changed paths and fired rules of ``count`` made-up changes (without real history)."""
    from provenance.audit import PathRow

    rng = random.Random(5)  # noqa: S311 - reproducible fixture data
    paths = [f"{d}/{w}_{k}{e}" for d in AUDIT_DIRS for w in ("handler", "model", "view", "util")
             for k in range(20) for e in AUDIT_EXTS]  # fmt: skip
    return [
        tuple(PathRow(path=p, status="M", rules=tuple(rng.sample(rules, 2)))
              for p in sorted({rng.choice(paths) for _ in range(rng.randint(1, 3))}))
        for _ in range(count)
    ]  # fmt: skip


def _synthetic(
    templates: list[AttestationRow],
    approval: AttestationRow,
    shapes: list[tuple[PathRow, ...]],
    repo: int,
    count: int,
    first: int,
    spacing: float,
) -> tuple[list[AttestationRow], list[Standing]]:
    """``count`` change rows of repository ``repo`` (approvals for ~60%) and their standings.

    Deterministic per repository, so writers need not share anything but the templates.
    """
    from provenance.audit import SkillRow

    rng = random.Random(repo * 100_003 + first)  # noqa: S311 - reproducible fixture data
    skills = [SkillRow(name=f"skill-{k}", version=f"1.{k}", digest=f"sha256:{_h(b'skill%d' % k)}")
              for k in range(50)]  # fmt: skip
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows: list[AttestationRow] = []
    standing: list[Standing] = []
    for i in range(first, first + count):
        sha = hashlib.sha1(b"r%d-c%d" % (repo, i)).hexdigest()  # synthetic commit ids
        when = start + timedelta(seconds=(i * 1000 + repo) * spacing)  # a year, interleaved
        payload = _h(b"r%d-p%d" % (repo, i))
        update = {
            "commit": sha,
            "line_digest": _h(b"r%d-l%d" % (repo, i)),
            "payload_digest": payload,
            "signed_time": when,
            "claimed_time": when,
            "agent": AUDIT_AGENTS[i % len(AUDIT_AGENTS)],
            "model": AUDIT_MODELS[i % len(AUDIT_MODELS)],
            "prompter": f"person-{rng.randrange(300)}@example.com",
            "skills": (rng.choice(skills),),
            "paths": shapes[(i * 7919 + repo) % len(shapes)],
        }
        rows.append(templates[i % len(templates)].model_copy(update=update))
        if rng.random() < 0.6:
            person, line = f"person-{rng.randrange(20)}", _h(b"r%d-a%d" % (repo, i))
            update = {
                "commit": sha,
                "line_digest": line,
                "approves": payload,
                "approver": person,
                "signer": f"{person}@example.com",
                "signed_time": when + timedelta(hours=2),
                "payload_digest": _h(b"r%d-ap%d" % (repo, i)),
            }
            rows.append(approval.model_copy(update=update))
            standing.append((sha, "ok", (), (person,), [line]))
        else:
            standing.append((sha, "refused", ("approval_missing",), (), []))
    return rows, standing


def repo_name(n: int) -> str:
    return f"bench.example.com/org/service-{n:03d}"


def _writer(
    db: IndexUrl,
    templates: list[AttestationRow],
    approval: AttestationRow,
    shapes: list[tuple[PathRow, ...]],
    repos: list[int],
    per_repo: int,
    spacing: float,
) -> None:
    """One writer process: each of its repositories in one run (one transaction), as
    ``provenance index`` writes it (rows, then each commit's standing)."""
    from provenance.audit import Index

    with Index.open(db) as index:
        for repo in repos:
            with index.writing(repo_name(repo)) as w:
                for first in range(0, per_repo, 2500):
                    count = min(2500, per_repo - first)
                    rows, standing = _synthetic(
                        templates, approval, shapes, repo, count, first, spacing
                    )
                    w.add(rows)
                    w.set_standings(standing)
                w.set_settings({"policy_digest": templates[0].policy_digest})


def _fill(
    db: IndexUrl,
    n: int,
    repos: int,
    writers: int,
    rows: tuple[list[AttestationRow], AttestationRow, list[tuple[PathRow, ...]]],
) -> float:
    """Fill with ``writers`` processes at once; returns the wall time."""
    per_repo = n // repos
    spacing = 365 * 86400 / (per_repo * 1000)  # every repository's rows spread over 2025
    ctx = mp.get_context("fork")
    start = time.perf_counter()
    procs = [
        ctx.Process(
            target=_writer, args=(db, *rows, list(range(w, repos, writers)), per_repo, spacing)
        )
        for w in range(writers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit(f"a writer failed: exit codes {[p.exitcode for p in procs]}")
    return time.perf_counter() - start


def _queries(shapes: list[tuple[PathRow, ...]], repos: int) -> list[tuple[str, Query]]:
    """Each query kind; paths and rules are the most (and least) common of the data."""
    from provenance.audit import Query

    changed = [p for shape in shapes for p in shape]
    by_rule = Counter(r for p in changed for r in p.rules).most_common()
    common, rare = by_rule[0][0], by_rule[-1][0]
    by_dir = Counter("/".join(p.path.split("/")[:2]) for p in changed if p.path.count("/") > 1)
    top, other = by_dir.most_common()[0][0], by_dir.most_common(4)[-1][0]
    ext = Counter(PurePosixPath(p.path).suffix for p in changed).most_common()[0][0] or ".rb"
    skill = f"sha256:{_h(b'skill7')}"
    month = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
    one = repo_name(min(17, repos - 1))
    return [
        ("--agent cursor-agent", Query(agent="cursor-agent")),
        ("--model model-3", Query(model="model-3")),
        ("--prompter person-17@example.com", Query(prompter="person-17@example.com")),
        ("--approver person-3", Query(approver="person-3")),
        ("--skill skill-7", Query(skill="skill-7")),
        ("--skill sha256:<digest>", Query(skill=skill)),
        (f"--path '{top}/**'", Query(path=f"{top}/**")),
        (f"--path '*{ext}'", Query(path=f"*{ext}")),
        (f"--rule {common}", Query(rule=common)),
        (f"--rule {rare}", Query(rule=rare)),
        (f"--path '{other}/**' --rule {common}", Query(path=f"{other}/**", rule=common)),
        ("--since 2025-06-01 --until 2025-06-30", Query(since=month[0], until=month[1])),
        (f"--model model-3 --path '{top}/**' --since --until",
         Query(model="model-3", path=f"{top}/**", since=month[0], until=month[1])),
        ("--repository R", Query(repository=one)),
        ("--repository R --approver person-3", Query(repository=one, approver="person-3")),
        (f"--repository R --path '{top}/**'", Query(repository=one, path=f"{top}/**")),
        ("--prompter P --since --until", Query(prompter="person-17@example.com",
                                                 since=month[0], until=month[1])),
        ("(no filter) --limit 1000", Query(limit=1000)),
    ]  # fmt: skip


def _real_history(
    inst: DevInstance, root: Path, bundle: Path, commits: int, db: IndexUrl
) -> list[AttestationRow]:
    """Stamp the identity-related commits of the bundle's last ``commits`` commits and index
    them for real (module docstring); their verified change rows."""
    from provenance.app.audit import build_index
    from provenance.app.gate import classify_range
    from provenance.app.policy_source import resolve_policy
    from provenance.audit import AttestationRow
    from provenance.gitio import resolve_commit
    from provenance.store import NotesStore
    from provenance.verify.attestation import verify_line

    repo, policy = root / "history", root / "history-policy.toml"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(bundle), str(repo)],
                   check=True, capture_output=True)  # fmt: skip
    policy.write_text(render_template(inst.default_issuer, AGENT))
    start = time.perf_counter()
    classified = classify_range(repo, f"HEAD~{commits}..HEAD", policy)
    t_classify = time.perf_counter() - start
    shas = [c.commit for c in classified.commits if c.identity_related]
    session = SessionContext(
        tool="claude-code",
        tool_version="2.1.0",
        model="claude-opus-4",
        prompter="alice@example.com",
        prompt=prompt_from_text(b"x"),
    )
    for sha in shas:
        token = inst.issue_token(AGENT)
        signing = SigningOptions(identity_token=token, trust_config=inst.trust_config_path)
        stamp(repo, sha, session, signing)
    options = VerifyOptions(policy=policy, trusted_root=inst.trusted_root_path, offline=True)
    name = "github.com/lobsters/lobsters"
    start = time.perf_counter()
    stats = build_index(repo, options, db=db, repository=name)
    t_index = time.perf_counter() - start
    t_again = timed(lambda: build_index(repo, options, db=db, repository=name))
    print(
        f"real history: {bundle.name}, last {commits} commits ({len(classified.commits)} "
        f"with merged branches), {len(shas)} identity-related, stamped; into {db.backend}"
    )
    for label, seconds in [
        (f"classify HEAD~{commits}..HEAD (once)", t_classify),
        (f"provenance index (verify + ingest {stats.new_lines} lines, once)", t_index),
        ("provenance index again (incremental, nothing new; best of 3)", t_again),
    ]:
        print(f"  {label:66} {seconds:7.3f} s")  # fmt: skip
    git_ = Git.discover(repo)
    loaded = resolve_policy(git_, policy, resolve_commit(git_, "HEAD"))
    trust = options.trust(loaded)
    rows = []
    for sha, lines in NotesStore(git_).read_many(shas).items():
        for i, line in enumerate(lines):
            result = verify_line(i, line, read_commit(git_, sha), trust)
            assert result.ok, result.reasons
            rows.append(AttestationRow.from_result(
                line, sha, result, verified_at=datetime.now(UTC), trust_root_digest="sha256:bench",
                policy_digest=loaded.digest))  # fmt: skip
    return [r for r in rows if r.paths]


def audit_bench(args: argparse.Namespace) -> int:
    """Fill the index, then time the auditor's queries (module docstring)."""
    from provenance.app.audit import upgrade_index
    from provenance.audit import Index, parse_index_url

    tmp = Path(tempfile.mkdtemp(prefix="provenance-audit-bench-"))
    db = parse_index_url(args.db or str(tmp / "index.sqlite"))
    n = args.audit_rows or (1_000_000 if db.backend == "postgresql" else 100_000)
    upgrade_index(db)
    with Index.open(db) as index:
        if index.repositories():
            raise SystemExit(f"{db.shown()} is not empty: give the bench an empty database")
    history: list[AttestationRow] = []
    with DevInstance(tmp / "sigstore") as inst:
        templates, approval, rules = _real_rows(inst, tmp)
        if args.audit_commits:
            rng = random.Random(11)  # noqa: S311 - reproducible fixture data
            _real_range(
                inst, tmp, args.audit_commits, rng, parse_index_url(str(tmp / "range.sqlite"))
            )
        bundle = Path(args.audit_history)
        if args.audit_history_commits and bundle.is_file():
            history = _real_history(inst, tmp, bundle, args.audit_history_commits, db)
    shapes = [r.paths for r in history] or synthetic_shapes(rules)
    print(
        f"clones carry the changed paths and fired rules of {len(shapes)} "
        + ("real lobsters changes" if history else "made-up changes (no real history)")
    )
    start = time.perf_counter()
    _synthetic(templates, approval, shapes, 0, 2500, 0, 1.0)
    made = 2500 / (time.perf_counter() - start)
    seconds = _fill(db, n, args.audit_repos, args.audit_writers, (templates, approval, shapes))
    with Index.open(db) as index:
        index.analyze()
        total = index.counts()
        print(f"index ({db.backend}): {n} change attestations (+ approvals for ~60%: "
              f"{total['attestations']} rows in all) cloned from real verified rows, "
              f"{args.audit_repos} repositories, {args.audit_writers} writers; filled in "
              f"{seconds:.1f} s ({n / seconds:,.0f} change attestations/s, "
              f"{total['attestations'] / seconds:,.0f} attestation rows/s; making the rows "
              f"alone: {made:,.0f} change attestations/s per writer)")  # fmt: skip
        _time_queries(index, shapes, args.audit_repos, n)
    return 0


def _time_queries(index: Index, shapes: list[tuple[PathRow, ...]], repos: int, n: int) -> None:
    """Best of 5 of every query kind: every hit materialised (once when over 50,000), and
    the first page (1000, oldest first)."""
    from dataclasses import replace

    from provenance.audit import commit_summaries, run_query

    print(f"{'query':58} {'hits':>7} {'all ms':>9} {'page ms':>9}")
    worst = worst_page = 0.0
    for label, q in _queries(shapes, repos):
        hits = len(run_query(index, q))
        t = timed(lambda q=q: run_query(index, q), repeat=5 if hits < 50_000 else 1)
        page = q if q.limit else replace(q, limit=1000)
        t_page = timed(lambda q=page: run_query(index, q), repeat=5)
        worst, worst_page = max(worst, t), max(worst_page, t_page)
        print(f"{label:58} {hits:7d} {t * 1000:9.1f} {t_page * 1000:9.1f}")
    k = min(17, repos - 1)
    shas = [hashlib.sha1(b"r%d-c%d" % (k, i)).hexdigest() for i in range(n // repos)][:1000]
    t = timed(lambda: commit_summaries(index, repo_name(k), shas), repeat=5)
    print(f"{'log/blame join: provenance columns of 1000 commits':58} {len(shas):7d} "
          f"{t * 1000:9.1f}")  # fmt: skip
    print(f"slowest query: {worst * 1000:.1f} ms with every hit materialised, "
          f"{worst_page * 1000:.1f} ms for its first 1000 hits")  # fmt: skip


def add_audit_arguments(ap: argparse.ArgumentParser) -> None:
    """``--audit`` and its options, for ``scripts/bench``."""
    ap.add_argument(
        "--audit",
        action="store_true",
        help="instead of the gate: fill the audit index and time its queries (bench_audit.py)",
    )
    ap.add_argument(
        "--db",
        help="for --audit: an empty PostgreSQL database URL or a SQLite path (default: temp)",
    )
    ap.add_argument(
        "--audit-rows",
        type=int,
        default=0,
        help="change attestations (default: 1,000,000 on PostgreSQL, 100,000 on SQLite)",
    )
    ap.add_argument("--audit-repos", type=int, default=200, help="repositories for --audit")
    ap.add_argument("--audit-writers", type=int, default=4, help="writer processes for --audit")
    ap.add_argument(
        "--audit-commits",
        type=int,
        default=200,
        help="real range for --audit: index, export and verify from the pack (0: skip)",
    )
    ap.add_argument(
        "--audit-history",
        default=str(Path(__file__).resolve().parents[2] / "shared/data/lobsters-history.bundle"),
        help="real history for --audit: a git bundle (default: the lobsters history in "
        "../shared/data; skipped when missing)",
    )
    ap.add_argument(
        "--audit-history-commits",
        type=int,
        default=400,
        help="last commits of --audit-history to classify, stamp and index for real (0: skip)",
    )
