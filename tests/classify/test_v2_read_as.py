"""A change read through other sources keeps git's line numbers (``_v2_changes.read_as``).

Git numbers lines at ``\\n`` only; ``str.splitlines`` also splits at a form feed (common in
older Python and C sources) and other separators, which shifted every line below one in the
comment-blanked change guard-flow reads (``_v2_neutral.decommented``): it read the wrong lines.
"""

from __future__ import annotations

from pathlib import Path

from provenance.classify._v2_neutral import decommented
from provenance.gitio.runner import Git
from provenance.gitio.walk import read_range, walk_range
from tests.classify.test_v2_stages import Lab

BEFORE = "import os\n\x0c\n\ndef check(user):  # who may edit\n    return user.is_admin\n"
AFTER = BEFORE.replace("user.is_admin", "True")


def test_blanked_change_keeps_gits_lines_across_a_form_feed(tmp_path: Path) -> None:
    lab = Lab(tmp_path / "repo")
    base = lab.repo.commit("before", {"app/perm.py": BEFORE})
    head = lab.repo.commit("after", {"app/perm.py": AFTER})
    git = Git.discover(lab.repo.path)
    b, h, commits = walk_range(git, base, head)
    (change,) = read_range(git, commits, ends=(b, h), want=lambda _c: True).own[head]
    blanked = decommented(change)
    assert blanked.removed == ("    return user.is_admin",)
    assert blanked.added == ("    return True",)
