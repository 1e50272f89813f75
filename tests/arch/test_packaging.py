"""The distributions as PyPI would get them: built from this tree, checked like the release job.

The release workflow (.github/workflows/release.yml) runs ``python -m build`` and
``twine check --strict``; this test does the same offline (``--no-isolation``: hatchling comes
from the test extras) and then looks inside: the distribution name is ours, not PyPI's
unrelated ``provenance`` (docs/decisions/0010), the command and import package are
``provenance``, every module ships, and so does the license ``pyproject.toml`` declares.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME, DIST = "identity-provenance", "identity_provenance"


def test_sdist_and_wheel_build_and_pass_twine(tmp_path: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True, cwd=tmp_path)
    wheel = tmp_path / f"{DIST}-{version}-py3-none-any.whl"
    sdist = tmp_path / f"{DIST}-{version}.tar.gz"
    twine = [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)]
    checked = subprocess.run(twine, capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = f"{DIST}-{version}.dist-info"
        metadata = HeaderParser().parsestr(zf.read(f"{info}/METADATA").decode())
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
        license_text = zf.read(f"{info}/licenses/LICENSE")
    package = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "provenance").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert package <= names, sorted(package - names)
    schemas = {f"provenance/_schemas/{p.name}" for p in (ROOT / "schemas").glob("*.json")}
    assert len(schemas) >= 7 and schemas <= names, sorted(schemas - names)  # issue 17 item 8
    assert {n.split("/")[0] for n in names} == {"provenance", info}  # no tests, no stray files
    assert metadata["Name"] == NAME
    assert metadata["Version"] == version
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert "provenance = provenance._cli:main" in entry_points.splitlines()
    assert license_text == (ROOT / "LICENSE").read_bytes()
    assert b"Apache License" in license_text and b"Version 2.0, January 2004" in license_text

    with tarfile.open(sdist) as tf:
        members = {m.name.split("/", 1)[1] for m in tf.getmembers() if "/" in m.name}
        member = tf.extractfile(f"{DIST}-{version}/PKG-INFO")
        assert member is not None
        pkg_info = HeaderParser().parsestr(member.read().decode())
    assert {"LICENSE", "README.md", "pyproject.toml", "provenance/__init__.py"} <= members
    tops = {m.split("/")[0] for m in members}
    expected = {"provenance", "tests", "schemas", "docs", "scripts", "README.md", "LICENSE"}
    assert tops <= expected | {"pyproject.toml", "PKG-INFO", ".gitignore"}, tops
    assert pkg_info["Name"] == NAME
