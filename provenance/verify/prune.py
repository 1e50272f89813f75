"""Which stored lines are refused for a reason that can never change (``provenance prune``).

A line may be deleted only when no trust root, no policy and no later approval could ever
make it count for this commit (THREATS.md G52). That is, when it is refused:

* by its shape alone (``parse_line``): not strict JSON, too large, neither a bundle nor an
  envelope, lax base64, a non-canonical bundle, not one DSSE signature, another payload type;
* by its statement alone, whatever signed it: not a Statement v1, no subject carrying this
  commit's digest (a line stored on the wrong commit);
* by the verifier, for a mismatch between parts of the line that no root can repair: a DSSE
  signature that does not verify with its own certificate or key (reached only after the
  chain and log checks passed), a log entry that does not match the envelope, a predicate
  naming another commit.

Everything else is kept: lines that verify, lines refused for their signer, chain, log or
time (another root or policy could accept them), unknown predicate types and predicates
that fail today's schema (a later version could read them).
"""

from __future__ import annotations

from provenance.gitio import Commit
from provenance.reasons import Reason
from provenance.verify.attestation import verify_line
from provenance.verify.envelope import parse_line
from provenance.verify.jsonstrict import StrictJSONError
from provenance.verify.statement import check_statement
from provenance.verify.trust import TrustContext

#: Statement checks that fail whatever signed the statement.
_STATEMENT_FOREVER = frozenset(
    {
        Reason.STATEMENT_MALFORMED,
        Reason.STATEMENT_TYPE_INVALID,
        Reason.SUBJECT_MISSING,
        Reason.TOO_MANY_SUBJECTS,
        Reason.SUBJECT_DIGEST_UNSUPPORTED,
        Reason.SUBJECT_DIGEST_MALFORMED,
        Reason.SUBJECT_MISMATCH,
    }
)
#: Verifier refusals between parts of one line, which no trust root or policy can repair.
_VERIFIED_FOREVER = frozenset(
    {
        Reason.SIGNATURE_INVALID,
        Reason.TLOG_MISMATCH,
        Reason.PREDICATE_COMMIT_MISMATCH,
    }
)


def permanent_refusal(line: bytes | None, commit: Commit, trust: TrustContext) -> str | None:
    """The reason ``line`` can never count for ``commit``, or ``None`` to keep it.

    ``None`` as the line means one too long to read (longer than any attestation may be).
    """
    if line is None:
        return Reason.TOO_LARGE
    try:
        parsed = parse_line(line)
    except StrictJSONError as e:
        return e.reason
    try:
        check_statement(parsed.payload, commit.digest)
    except StrictJSONError as e:
        if e.reason in _STATEMENT_FOREVER:
            return e.reason
    result = verify_line(0, line, commit, trust)
    if result.ok:
        return None
    forever = [r for r in result.reasons if r in _VERIFIED_FOREVER]
    return forever[0] if forever else None
