"""Fixtures of the verifier's threat tests: one stamped golden per module, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from provenance.devinstance import DevInstance
from tests.conftest import make_golden
from tests.verify._support import Lab, network_restored, restore_network


@pytest.fixture(scope="module", autouse=True)
def _network_on_for_module_fixtures() -> None:
    """Module fixtures sign too; autouse runs before the other fixtures of its scope."""
    restore_network()


@pytest.fixture(autouse=True)
def _network_back() -> Iterator[None]:
    """Sockets work at the start (earlier suites may have left them off) and at the end."""
    restore_network()
    with network_restored():
        yield


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Lab:
    """A golden (Rekor v1 + TSA) built once per module; tests only rewrite its note."""
    golden = make_golden(tmp_path_factory.mktemp("golden"), dev)
    (line,) = golden.notes(golden.commit)
    return Lab(golden, line)


@pytest.fixture
def lab(shared_lab: Lab) -> Lab:
    """The shared golden with its own attestation stored again."""
    shared_lab.reset()
    return shared_lab
