"""Property tests: classify never raises on arbitrary FileChange text and is deterministic."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.classify import Classifier
from provenance.models import FileChange

CLF = Classifier.build(paths=["billing/**"], exclude=["vendor/**"])
# A second instance whose memo caches see a different history than CLF's.
OTHER = Classifier.build(paths=["billing/**"], exclude=["vendor/**"])

# Any code point, including lone surrogates (git paths are decoded with surrogateescape).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=120)
PATH_PARTS = st.sampled_from(
    ["auth", "src", "..", ".", "", "vendor", "billing", ".gitattributes", "Login.tsx", "a\u200bb"]
)
PATHS = st.one_of(ANY_TEXT, st.lists(st.one_of(PATH_PARTS, ANY_TEXT), max_size=6).map("/".join))
WORDS = st.sampled_from(
    ["auth", "session", "token", "role ==", "@login_required", "jwt.sign(", "-----BEGIN ", "  "]
)
LINES = st.lists(st.one_of(ANY_TEXT, st.lists(WORDS, max_size=8).map(" ".join)), max_size=8)
MODES = st.sampled_from(["000000", "100644", "100755", "120000", "160000", "040000", "bogus"])


@st.composite
def file_changes(draw: st.DrawFn) -> FileChange:
    """Arbitrary FileChanges, well-formed or not."""
    return FileChange(
        path=draw(PATHS),
        old_path=draw(PATHS),
        status=draw(st.sampled_from(["A", "M", "D", "R", "C", "T", "X"])),
        old_mode=draw(MODES),
        new_mode=draw(MODES),
        added=tuple(draw(LINES)),
        removed=tuple(draw(LINES)),
        binary=draw(st.booleans()),
        symlink_targets=tuple(draw(st.lists(PATHS, max_size=3))),
    )


@settings(max_examples=300, deadline=None)
@given(file_changes())
def test_classify_never_raises_and_returns_sorted_known_ids(change: FileChange) -> None:
    fired = CLF.classify(change)
    assert isinstance(fired, tuple)
    assert list(fired) == sorted(set(fired))
    assert set(fired) <= set(CLF.rules)


@settings(max_examples=200, deadline=None)
@given(file_changes())
def test_classify_is_deterministic_and_cache_independent(change: FileChange) -> None:
    first = CLF.classify(change)
    assert CLF.classify(change) == first
    assert OTHER.classify(change) == first
