"""The gate half of ``scripts/bench --real``: 20% of a real range attested, verify vs classify.

Imported by ``bench_real`` only when the gate is measured: it starts the local Sigstore
instance and signs, which the classify measurements do not need.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench_real import PROVENANCE, paired, sh

from provenance.app.stamp import SigningOptions, stamp
from provenance.devinstance import DevInstance
from provenance.policy import render_template
from provenance.record.change import SessionContext, prompt_from_text

AGENT = "agent-bot@example.com"
SHARE = 0.2


def gate_pair(repo: Path, base: str, head: str, runs: int, tmp: str) -> float:
    """Attest 20% of ``base..head`` (sampled), then time verify against classify."""
    rng = random.Random(20)  # noqa: S311 -- reproducible bench data
    commits = sh("git", "-C", str(repo), "rev-list", f"{base}..{head}").split()
    chosen = rng.sample(commits, round(len(commits) * SHARE))
    with DevInstance(Path(tmp) / "sigstore") as inst:
        policy = Path(tmp) / "policy.toml"
        policy.write_text(render_template(inst.default_issuer, AGENT))
        session = SessionContext(
            tool="bench-agent", tool_version="1", model="m", prompter="p",
            prompt=prompt_from_text(b"x"),
        )  # fmt: skip
        for sha in chosen:
            signing = SigningOptions(
                identity_token=inst.issue_token(AGENT), trust_config=inst.trust_config_path
            )
            stamp(repo, sha, session, signing)
        print(f"gate: {len(chosen)} of {len(commits)} commits attested (20%)")
        spec = f"{base}..{head}"
        common = ["--repo", str(repo), spec, "--policy", str(policy), "--format", "json"]
        classify = [str(PROVENANCE), "classify", *common]
        verify = [
            str(PROVENANCE), "verify", *common, "--offline",
            "--trusted-root", str(inst.trusted_root_path),
        ]  # fmt: skip
        return paired("gate", classify, verify, runs, 2.0)
