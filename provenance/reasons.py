"""The one vocabulary of refusals and the exit-code contract, below every stage.

``Reason`` names why anything was refused: a stored line, a commit, a range, an evidence pack,
an approval, a prompter. Its values appear in JSON and SARIF reports, index rows and docs, so
they are a public contract: add members, never rename or reuse a value. ``ExitCode`` is the
CLI's contract (0 pass, 1 refused, 2 usage, 3 could not decide); errors carry one and only
``_cli`` exits with it.

Every stage may import this module (``gitio`` included); it imports nothing of the project.
``provenance.verify.reasons`` re-exports ``Reason`` for code written against it before.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Reason(StrEnum):
    """Why something was refused. Values are a public contract."""

    # store / commit level
    ATTESTATIONS_UNAVAILABLE = "attestations_unavailable"
    ATTESTATION_MISSING = "attestation_missing"
    ATTESTATION_PENDING = "attestation_pending"
    TOO_MANY_ATTESTATIONS = "too_many_attestations"
    # revisions and ranges (gitio: the range proves nothing as given, G42)
    REVISION_AMBIGUOUS = "revision_ambiguous"
    RANGE_INVALID = "range_invalid"
    RANGE_EMPTY = "range_empty"
    BASE_NOT_ANCESTOR = "base_not_ancestor"
    UNRELATED_HISTORIES = "unrelated_histories"
    # evidence packs (store.directory, app.evidence): the pack cannot be used as evidence
    EVIDENCE_MANIFEST_INVALID = "evidence_manifest_invalid"
    EVIDENCE_FILE_MISSING = "evidence_file_missing"
    EVIDENCE_FILE_EXTRA = "evidence_file_extra"
    EVIDENCE_DIGEST_MISMATCH = "evidence_digest_mismatch"
    EVIDENCE_PATH_UNSAFE = "evidence_path_unsafe"
    EVIDENCE_POLICY_MISMATCH = "evidence_policy_mismatch"
    EVIDENCE_TRUSTED_ROOT_MISMATCH = "evidence_trusted_root_mismatch"
    EVIDENCE_TRUSTED_ROOT_UNPINNED = "evidence_trusted_root_unpinned"
    # envelope (THREATS.md A)
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    UNKNOWN_FORMAT = "unknown_format"
    BUNDLE_NONCANONICAL = "bundle_noncanonical"
    DUPLICATE_JSON_KEY = "duplicate_json_key"
    UNEXPECTED_FIELD = "unexpected_field"
    BASE64_INVALID = "base64_invalid"
    PAYLOAD_TYPE_INVALID = "payload_type_invalid"
    SIGNATURE_COUNT_INVALID = "signature_count_invalid"
    SIGNATURE_INVALID = "signature_invalid"
    NOT_DSSE = "not_dsse"
    # statement (THREATS.md B)
    STATEMENT_MALFORMED = "statement_malformed"
    STATEMENT_TYPE_INVALID = "statement_type_invalid"
    PREDICATE_TYPE_UNKNOWN = "predicate_type_unknown"
    PREDICATE_INVALID = "predicate_invalid"
    SUBJECT_MISSING = "subject_missing"
    TOO_MANY_SUBJECTS = "too_many_subjects"
    SUBJECT_DIGEST_UNSUPPORTED = "subject_digest_unsupported"
    SUBJECT_DIGEST_MALFORMED = "subject_digest_malformed"
    SUBJECT_MISMATCH = "subject_mismatch"
    PREDICATE_COMMIT_MISMATCH = "predicate_commit_mismatch"
    REPOSITORY_MISMATCH = "repository_mismatch"
    # Sigstore material, identity, time (THREATS.md C)
    BUNDLE_INVALID = "bundle_invalid"
    SIGNER_NOT_ALLOWED = "signer_not_allowed"
    CERTIFICATE_CHAIN_INVALID = "certificate_chain_invalid"
    CERTIFICATE_PROFILE_INVALID = "certificate_profile_invalid"
    SCT_INVALID = "sct_invalid"
    TLOG_INVALID = "tlog_invalid"
    TLOG_MISMATCH = "tlog_mismatch"
    SIGNED_TIME_MISSING = "signed_time_missing"
    SIGNED_TIME_INVALID = "signed_time_invalid"
    TIMESTAMP_INVALID = "timestamp_invalid"
    SIGSTORE_VERIFICATION_FAILED = "sigstore_verification_failed"
    #: a certificate bundle given a key to check, or a key bundle given an identity (verify-bundle)
    VERIFICATION_MATERIAL_MISMATCH = "verification_material_mismatch"
    # key-signed envelopes
    KEY_UNKNOWN = "key_unknown"
    KEY_NOT_YET_VALID = "key_not_yet_valid"
    KEY_EXPIRED = "key_expired"
    # approvals and duties (THREATS.md D)
    APPROVER_NOT_ALLOWED = "approver_not_allowed"
    APPROVAL_MISSING = "approval_missing"
    SELF_APPROVAL = "self_approval"
    APPROVAL_FOR_OTHER_ATTESTATION = "approval_for_other_attestation"
    APPROVAL_THRESHOLD_NOT_MET = "approval_threshold_not_met"
    APPROVAL_REJECTED = "approval_rejected"
    # the prompter (policy [agents] prompter = "signed"; G50)
    PROMPTER_UNSIGNED = "prompter_unsigned"
    PROMPTER_SIGNATURE_INVALID = "prompter_signature_invalid"
    PROMPTER_NOT_ALLOWED = "prompter_not_allowed"
    PROMPTER_MISMATCH = "prompter_mismatch"
    #: signed by a CI workload's certificate (URI SAN or Fulcio build extensions), not a person
    PROMPTER_WORKLOAD_IDENTITY = "prompter_workload_identity"
    # agent trailers (policy [agents] trailer = "refuse"; "warn" lists them as warnings)
    TRAILER_WITHOUT_ATTESTATION = "trailer_without_attestation"
    ATTESTATION_WITHOUT_TRAILER = "attestation_without_trailer"
    #: a trailer names an agent or model other than the attested one (policy [trailers])
    TRAILER_MISMATCH = "trailer_mismatch"
    # what produced the change (policy [allow], docs/decisions/0018)
    AGENT_NOT_ALLOWED = "agent_not_allowed"
    MODEL_NOT_ALLOWED = "model_not_allowed"
    SKILL_NOT_ALLOWED = "skill_not_allowed"
    AGENT_CONFIG_NOT_ALLOWED = "agent_config_not_allowed"
    #: a policy [allow] entry the gate cannot read: the policy is refused as a whole
    ALLOW_ENTRY_INVALID = "allow_entry_invalid"
    # revocations by cause (.provenance/revocations.toml at BASE)
    REVOKED = "revoked"
    #: a revocations file or entry the gate cannot read: nothing is decided with it
    REVOCATION_INVALID = "revocation_invalid"
    # rewrite links (a claim the gate recomputes from git objects; never trusted)
    #: a source's objects are absent (fetch refs/provenance/*)
    LINK_SOURCE_MISSING = "link_source_missing"
    #: replaying the sources onto NEW's parent does not give NEW's identity-related content
    LINK_NOT_EQUIVALENT = "link_not_equivalent"
    #: an identity-related source does not pass on its own
    LINK_SOURCE_REFUSED = "link_source_refused"


class ExitCode(IntEnum):
    """What the process exit status means (README "Exit codes")."""

    PASSED = 0
    REFUSED = 1
    USAGE = 2
    UNDECIDED = 3


__all__ = ["ExitCode", "Reason"]
