"""``python -m provenance`` runs the CLI, never with the current directory on ``sys.path``.

``python -m`` imports from the current directory first. That cannot be undone for this package
itself (a ``provenance/`` there is what runs), so the supported entry point is the
``provenance`` console script; from here on nothing else is imported from the current
directory (THREATS.md G54).
"""

import sys

from provenance.safefiles import without_working_directory

sys.path[:] = without_working_directory(sys.path)

from provenance._cli import main  # noqa: E402  (only after sys.path is safe)

main()
