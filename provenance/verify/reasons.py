"""Reason codes: the stable vocabulary of every refusal (JSON output, SARIF rule ids, docs)."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why an attestation or a commit was refused. Values are a public contract."""

    # store / commit level
    ATTESTATIONS_UNAVAILABLE = "attestations_unavailable"
    ATTESTATION_MISSING = "attestation_missing"
    ATTESTATION_PENDING = "attestation_pending"
    TOO_MANY_ATTESTATIONS = "too_many_attestations"
    # revisions (raised by gitio by value: a name git could read as several refs, G42)
    REVISION_AMBIGUOUS = "revision_ambiguous"
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
