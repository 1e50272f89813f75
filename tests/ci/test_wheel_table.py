"""The built wheel carries the data files the package reads, not only its modules."""

from __future__ import annotations

import subprocess
from pathlib import Path

from provenance.classify._prefilter_shape import shipped
from tests.ci.conftest import WheelVenv


def test_the_wheel_ships_the_prefilter_table(wheel_venv: WheelVenv, tmp_path: Path) -> None:
    """The built-in rules' precomputed conditions (a data file beside the modules) install with
    the wheel: without them every process of a runner would derive them again."""
    code = "from provenance.classify._prefilter_shape import shipped; print(len(shipped()))"
    python = str(wheel_venv.bin / "python")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(shipped()) > 100
