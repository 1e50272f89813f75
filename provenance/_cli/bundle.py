"""``verify-bundle`` (a sigstore-conformance client) and ``trust-root export``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from provenance._cli.options import root_options
from provenance._cli.output import Reporter, echo, finish_verdict, report_options
from provenance.display import shown

_existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("verify-bundle")
@click.argument("artifact", metavar="FILE | sha256:HEX")
@click.option("--bundle", type=_existing_file, required=True, help="Sigstore bundle to verify.")
@click.option("--certificate-identity", default=None, help="Exact signer identity (SAN).")
@click.option("--certificate-oidc-issuer", default=None, help="Exact OIDC issuer.")
@click.option(
    "--key",
    type=_existing_file,
    default=None,
    help="PEM public key, for bundles signed with a managed key (instead of an identity).",
)
@root_options
@report_options("text", "json")
def verify_bundle_cmd(
    artifact: str,
    bundle: Path,
    certificate_identity: str | None,
    certificate_oidc_issuer: str | None,
    key: Path | None,
    trusted_root: Path | None,
    trust_config: Path | None,
    staging: bool,
    offline: bool,
    report: Reporter,
) -> None:
    """Verify any Sigstore bundle for FILE (or its sha256); exit 0 only on success.

    Speaks the sigstore-conformance client protocol. A DSSE bundle's in-toto statement must
    name the artifact's digest as a subject; a message-signature bundle must sign the
    artifact's sha256. The signer is exactly --certificate-identity at exactly
    --certificate-oidc-issuer, or, for a bundle signed with a managed key, the --key you
    trust. Refusals exit 1 with a reason code (--format json); exit 3 means the trusted
    root could not be loaded.

    \b
    Examples:
      provenance verify-bundle --bundle pkg.sigstore.json --offline \\
          --certificate-identity "$RELEASE_WORKFLOW" \\
          --certificate-oidc-issuer https://token.actions.githubusercontent.com pkg.tar.gz
      provenance verify-bundle --bundle a.sigstore.json --key release.pub \\
          --trusted-root trusted_root.json sha256:0f3a...
    """
    from provenance.app.options import forbid_network
    from provenance.app.verify_bundle import verify_bundle

    if offline:
        forbid_network()
    check = verify_bundle(
        bundle,
        artifact,
        identity=certificate_identity,
        issuer=certificate_oidc_issuer,
        key=key,
        trusted_root=trusted_root,
        trust_config=trust_config,
        staging=staging,
        offline=offline,
    )
    r = check.result
    echo(f"trusted root: {shown(check.root.source)} ({check.root.digest})", err=True)
    if report.fmt == "json":
        document = {
            "result": "passed" if r.ok else "refused",
            "reasons": list(r.reasons),
            "digest": check.digest,
            "signer": r.signer,
            "statement_type": r.statement_type,
            "predicate_type": r.predicate_type,
            "trusted_root": {"source": check.root.source, "digest": check.root.digest},
        }
        report.write(json.dumps(document, indent=2))
    elif r.ok:
        kind = f"{r.statement_type}, {r.predicate_type}" if r.statement_type else "message"
        report.write(
            f"OK   {shown(bundle)}: {check.digest[:23]}… signed by {shown(r.signer)} "
            f"({shown(kind)})"
        )
    else:
        report.write(f"FAIL {shown(bundle)}: {', '.join(r.reasons)}")
    finish_verdict(r.ok)


@click.group("trust-root")
def trust_root_group() -> None:
    """The Sigstore trusted root in use: export it so an auditor can pin it.

    \b
    Example:
      provenance trust-root export --out trusted_root.json
      provenance verify --evidence evidence/ --offline --trusted-root trusted_root.json ...
    """


@trust_root_group.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write (refused if it exists, unless --force).",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@root_options
@click.option(
    "--devinstance",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Directory of a local instance (provenance devinstance serve --dir DIR).",
)
def export_root_cmd(
    out: Path,
    force: bool,
    trusted_root: Path | None,
    trust_config: Path | None,
    staging: bool,
    offline: bool,
    devinstance: Path | None,
) -> None:
    """Write the trusted root in use to --out, byte for byte, atomically.

    The root is the first of: --trusted-root, --trust-config (or PROVENANCE_TRUST_CONFIG),
    --devinstance DIR, then Sigstore production (--staging: staging) refreshed through TUF,
    or, with --offline, the root shipped inside sigstore-python. Its source and sha256 go to
    stderr: record the digest with the evidence, and pass the file to `verify --offline
    --trusted-root` later, wherever that runs.

    \b
    Examples:
      provenance trust-root export --out trusted_root.json                # production, TUF
      provenance trust-root export --out trusted_root.json --offline      # shipped root
      provenance trust-root export --out lab_root.json --devinstance .demo/sigstore
    """
    from provenance.app.options import forbid_network
    from provenance.app.trust_root import RootChoice, export_root

    if offline:
        forbid_network()
    choice = RootChoice(trusted_root, trust_config, devinstance, staging=staging, offline=offline)
    done = export_root(choice, out, force=force)
    echo(f"wrote {done.out}: {done.root.source} ({done.root.digest})", err=True)
