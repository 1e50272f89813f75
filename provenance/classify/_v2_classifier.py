"""The classifier for ``builtin:identity@2``."""

from __future__ import annotations

from provenance.classify.classifier import Classifier


class ClassifierV2(Classifier):
    """``@1``'s path, content and mode rules plus the stages of ``@2``."""
