"""``builtin:identity@2``: ``@1``'s tables with the changes made for real applications.

``@1``'s modules are frozen; everything ``@2`` changes is stated here, as edits of ``@1``'s
tables, so the difference between the versions can be read in one place. The stages that
``@2`` runs beyond path and content rules are described in ``STAGES`` (their tables are part
of the digest).
"""

from __future__ import annotations

from typing import Any

from provenance.classify._guard import verifying_document
from provenance.classify._paths import KIND_GLOBS
from provenance.classify._ruleset import (
    BUILTIN_CONTENT_RULES,
    BUILTIN_PATH_RULES,
    RULESET_V2,
    Ruleset,
    register,
)
from provenance.classify._v2_additions import (
    ADDED_CONTENT,
    ADDED_PATHS,
    PROBED_CONTENT,
    widened,
)
from provenance.classify._v2_conditions import conditions_document
from provenance.classify._v2_deps import deps_document
from provenance.classify._v2_frames import frames_document
from provenance.classify._v2_functions import functions_document
from provenance.classify._v2_markup import markup_document
from provenance.classify._v2_messages import messages_document
from provenance.classify._v2_neutral import neutral_document
from provenance.classify._v2_outbound_words import outbound_document
from provenance.classify._v2_scope import SCOPE_KINDS, scope_document
from provenance.classify._v2_scoping import scoping_document
from provenance.classify._v2_templates import templates_document
from provenance.classify._v2_workflows import workflows_document

#: Style sheets ``@1`` does not name (PostCSS): styling, never configuration (decision 0026).
_STYLE_SHEETS = ("*.pcss", "*.postcss", "*.sss")

V2_KINDS: dict[str, tuple[str, ...]] = {
    **KIND_GLOBS,
    **SCOPE_KINDS,
    "inert": (*KIND_GLOBS["inert"], *_STYLE_SHEETS),
    "decorative": (*KIND_GLOBS["decorative"], *_STYLE_SHEETS),
    # Blade views are templates (``@2`` judges templates by what they send, _v2_templates)
    "template": (*KIND_GLOBS["template"], "*.blade.php"),
    # Django's admin-site modules: list columns and filters of the staff UI (see _v2_classifier)
    "django-admin": ("admin.py",),
    # binary media: judged by their paths, their bytes are no text to read (see _v2_classifier)
    "media": (
        *("*.png", "*.jpg", "*.jpeg", "*.gif", "*.webp", "*.avif", "*.ico", "*.bmp", "*.tif"),
        *("*.tiff", "*.psd", "*.woff", "*.woff2", "*.ttf", "*.eot", "*.otf", "*.mp3", "*.mp4"),
        *("*.wav", "*.ogg", "*.webm", "*.mov", "*.pdf"),
    ),
}


#: ``@1`` content rules a stage of ``@2`` replaces (``template.csrf`` is now the template
#: stage's rule: templates are judged by what they send, not by their words).
_REPLACED = frozenset({"template.csrf"})


def _stages() -> dict[str, Any]:
    """The JSON-ready description of ``@2``'s stages (hashed into the digest)."""
    return {
        "scope": scope_document(),
        "neutral": neutral_document(),
        "templates": templates_document(),
        "dependencies": deps_document(),
        "workflows": workflows_document(),
        "outbound": outbound_document(),
        "guard": {**verifying_document(), **conditions_document(), **frames_document()},
        "functions": functions_document(),
        "markup": markup_document(),
        "scoping": scoping_document(),
        "messages": messages_document(),
    }


V2 = register(
    Ruleset(
        RULESET_V2,
        BUILTIN_PATH_RULES + ADDED_PATHS,
        tuple(widened(r) for r in BUILTIN_CONTENT_RULES if r.id not in _REPLACED)
        + ADDED_CONTENT
        + PROBED_CONTENT,
        V2_KINDS,
        _stages(),
    )
)
