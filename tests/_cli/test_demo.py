"""The demo is an end-to-end test of the real CLI: it must pass, and narrate each step."""

from __future__ import annotations

from pathlib import Path

from provenance.app.demo import run_demo


def test_demo_passes_and_never_prints_a_token(tmp_path: Path) -> None:
    lines: list[str] = []
    assert run_demo(tmp_path / "demo", lines.append), "\n".join(lines)
    text = "\n".join(lines)
    assert "eyJ" not in text, "a token was printed"
    for reason in (
        "attestations_unavailable",
        "attestation_missing",
        "subject_mismatch",
        "signer_not_allowed",
        "self_approval",
        "revoked",
    ):
        assert reason in text
    # The auditor's offline pack and the wrapped agent ran (their checks are inside the demo).
    assert "provenance verify --evidence" in text
    assert "provenance impact --revocation INC-7" in text and "ok -> refused  (revoked)" in text
    assert "no signing token in my environment" in text
    assert "DEMO PASSED" in text
