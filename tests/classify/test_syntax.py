"""Enclosing functions found by tree-sitter, and the textual fallback (THREATS.md G45)."""

from __future__ import annotations

import pytest

from provenance.classify.syntax import Span, enclosing, fallback, language_of

SOURCES = {
    "a.py": "import x\n\n@login_required\ndef view(request):\n    a = 1\n    return a\n",
    "a.rb": "class A\n  def show\n    a = 1\n    render :show\n  end\nend\n",
    "a.php": "<?php\nclass A {\n  public function show($r) {\n    $a = 1;\n    return $a;\n  }\n}\n"
    "",
    "a.go": "package a\n\nfunc (h *H) Show(w W) {\n\ta := 1\n\t_ = a\n}\n",
    "a.js": "router.get('/x', (req, res) => {\n  const a = 1;\n  res.json(a);\n});\n",
    "a.ts": "export class A {\n  show(req: Req): number {\n    const a = 1;\n"
    "    return a;\n  }\n}\n",
    "a.tsx": "export function A() {\n  const a = 1;\n  return <div>{a}</div>;\n}\n",
    "A.java": "class A {\n  int show() {\n    int a = 1;\n    return a;\n  }\n}\n",
    "A.cs": "class A {\n  int Show() {\n    var a = 1;\n    return a;\n  }\n}\n",
    "a.rs": "fn show() -> i32 {\n    let a = 1;\n    a\n}\n",
}
EXPECTED = {
    "a.py": (3, 6),  # with its decorator
    "a.rb": (2, 5),
    "a.php": (3, 6),
    "a.go": (3, 6),
    "a.js": (1, 4),
    "a.ts": (2, 5),
    "a.tsx": (1, 4),
    "A.java": (2, 5),
    "A.cs": (2, 5),
    "a.rs": (1, 4),
}


@pytest.mark.parametrize("path", list(SOURCES))
def test_enclosing_function_per_language(path: str) -> None:
    assert language_of(path) is not None
    first, last = EXPECTED[path]
    spans = enclosing(SOURCES[path], path, first + 2 if path != "a.py" else 5, last - 1)
    assert spans[-1] == Span(first, last, True)


def test_module_level_lines_have_no_enclosing_function() -> None:
    assert enclosing(SOURCES["a.py"], "a.py", 1, 1) == []


def test_nested_functions_are_listed_innermost_first() -> None:
    src = "def outer(r):\n    def inner():\n        return 1\n    return inner()\n"
    assert enclosing(src, "a.py", 3, 3) == [Span(2, 3, True), Span(1, 4, True)]


def test_fallback_for_languages_without_a_grammar() -> None:
    src = "class A {\n  fun show(): Int {\n    val a = 1\n    return a\n  }\n  fun other() {}\n}\n"
    assert language_of("A.kt") is None
    assert enclosing(src, "A.kt", 3, 3) == [Span(2, 5, False)]
    assert fallback(["x = 1", "y = 2"], 2, 2) is None
