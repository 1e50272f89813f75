"""Session-wide instances: starting one costs key loads and a socket, so tests share them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from provenance.devinstance import DevInstance

Mode = tuple[int, bool]


@pytest.fixture(scope="session")
def instance_for(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Mode], DevInstance]]:
    """Return a running instance per (rekor_version, tsa) mode, started on first request."""
    running: dict[Mode, DevInstance] = {}

    def get(mode: Mode) -> DevInstance:
        if mode not in running:
            version, tsa = mode
            directory = tmp_path_factory.mktemp(
                f"devinstance-v{version}-{'tsa' if tsa else 'notsa'}"
            )
            running[mode] = DevInstance(directory, rekor_version=version, tsa=tsa).start()
        return running[mode]

    yield get
    for inst in running.values():
        inst.stop()


@pytest.fixture(scope="session")
def instance(instance_for: Callable[[Mode], DevInstance]) -> DevInstance:
    """The default mode: Rekor v1 with a timestamp authority."""
    return instance_for((1, True))
