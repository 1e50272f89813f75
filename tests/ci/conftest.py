"""The built wheel in a venv of its own: what `pip install identity-provenance` gives a runner."""

from __future__ import annotations

import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ci.forge import ROOT


@dataclass(frozen=True)
class WheelVenv:
    bin: Path
    wheelhouse: Path  # holds only our wheel: `pip install identity-provenance` resolves to it


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> WheelVenv:
    """Build the wheel from this tree, install only it (and its dependencies) in a new venv."""
    base = tmp_path_factory.mktemp("wheel-venv")
    wheelhouse = base / "wheelhouse"
    build = [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir",
             str(wheelhouse), str(ROOT)]  # fmt: skip
    subprocess.run(build, check=True, capture_output=True, cwd=base)
    (wheel,) = wheelhouse.glob("identity_provenance-*.whl")
    venv.create(base / "venv", with_pip=True)
    pip = [str(base / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)]
    subprocess.run(pip, check=True, capture_output=True, cwd=base)
    return WheelVenv(bin=base / "venv" / "bin", wheelhouse=wheelhouse)
