"""Markup and styles: the rules read what runs, not how a page looks (decision 0026).

- A Vue single-file component (``*.vue``) is split into its top-level blocks by the HTML
  grammar tree-sitter publishes. ``<style>`` is CSS and cannot act: nothing of it is read.
  ``<script>`` blocks are read as JavaScript or TypeScript (``lang``), by the neutrality pass
  too. ``<template>`` is read for its code alone: tag names, binding attributes (``v-*``,
  ``:x``, ``@x``, ``#x``), ``{{ }}`` interpolations, event handlers (``on*``), the
  security-relevant static attributes of HTML elements (``KEPT``), and every static attribute
  of a component other than ``class`` and ``style`` (a prop its code reads). Other static
  attributes (``class``, ``role``, ``aria-*``...), text and comments are data.
- CSS in JavaScript: the literal text of templates tagged ``css``, ``keyframes``,
  ``createGlobalStyle``, ``injectGlobal``, ``styled.x``, ``styled(X)`` (and their ``.attrs()``
  / ``.withConfig()``) is CSS; their ``${...}`` interpolations stay code. Untagged templates
  and any other tag (``sql``, ``gql``, ``html``) stay code.

What is not read is cut out, line breaks kept, so every line keeps its number. A side that
does not parse cleanly, a template or script in another language, or a change whose lines
cannot be numbered is not cut: the file is then judged as before (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import tree_sitter_html
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from provenance.classify._locate import Line, numbered
from provenance.classify._v2_changes import read_as
from provenance.classify._v2_neutral import Effective, effective
from provenance.classify.syntax import MAX_PARSE_BYTES, language_of, parse
from provenance.models import FileChange

#: Static attributes of HTML elements that decide where data goes, what runs or what a form
#: accepts: read as code. Every other static attribute of an HTML element is presentation.
KEPT = frozenset(
    {
        "action", "method", "formaction", "formmethod", "formtarget", "formenctype", "enctype",
        "target", "rel", "href", "src", "srcset", "srcdoc", "data", "codebase", "ping",
        "download", "integrity", "crossorigin", "referrerpolicy", "sandbox", "allow",
        "http-equiv", "content", "nonce", "name", "type", "value", "autocomplete", "pattern",
        "required", "minlength", "maxlength", "min", "max", "disabled", "readonly", "accept",
        "form", "novalidate", "is", "ref", "slot", "v-else",
    }
)  # fmt: skip
#: Attributes Vue never passes to a component's props (merged onto its root element).
_PRESENTATION = frozenset({"class", "style"})
#: HTML and SVG elements: their static attributes outside ``KEPT`` are not read. Any other tag
#: is a component, whose static attributes are props.
HTML_ELEMENTS = frozenset(
    {
        "a", "abbr", "address", "article", "aside", "audio", "b", "bdi", "bdo", "blockquote",
        "br", "button", "canvas", "caption", "cite", "code", "col", "colgroup", "data",
        "datalist", "dd", "del", "details", "dfn", "dialog", "div", "dl", "dt", "em",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hgroup", "hr", "i", "iframe", "img", "input", "ins", "kbd", "label",
        "legend", "li", "main", "mark", "menu", "meter", "nav", "noscript", "object", "ol",
        "optgroup", "option", "output", "p", "picture", "pre", "progress", "q", "rp", "rt",
        "ruby", "s", "samp", "search", "section", "select", "small", "source", "span", "strong",
        "sub", "summary", "sup", "table", "tbody", "td", "textarea", "tfoot", "th", "thead",
        "time", "tr", "track", "u", "ul", "var", "video", "wbr", "svg", "path", "g", "circle",
        "rect", "line", "polyline", "polygon", "ellipse", "use", "defs", "symbol",
        "lineargradient", "radialgradient", "stop", "text", "tspan", "clippath", "mask",
        "title",
    }
)  # fmt: skip
#: Tags whose template literal is CSS (styled-components, emotion, linaria).
CSS_TAGS = frozenset({"css", "keyframes", "createGlobalStyle", "injectGlobal"})
_STYLED = "styled"
_STYLED_CHAINS = frozenset({"attrs", "withConfig"})
_SCRIPT_LANGUAGES = {"": "javascript", "js": "javascript", "jsx": "javascript"}
_SCRIPT_LANGUAGES |= {"ts": "typescript", "tsx": "tsx"}
_BINDING = re.compile(r"^(?:v-|[:@#]|on[a-z])")
_MUSTACHE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_TOKEN = re.compile(r"\w+|[^\w\s]")
#: A cheap first look: files without any of the tags are not parsed.
_CSS_TAGGED = re.compile(r"\b(?:css|keyframes|createGlobalStyle|injectGlobal|styled)\b")


def markup_document() -> dict[str, Any]:
    """The stage's tables, for the ruleset digest."""
    return {
        "kept": sorted(KEPT),
        "presentation": sorted(_PRESENTATION),
        "html_elements": sorted(HTML_ELEMENTS),
        "css_tags": sorted(CSS_TAGS | {f"{_STYLED}.x", f"{_STYLED}(x)"}),
        "styled_chains": sorted(_STYLED_CHAINS),
        "script_languages": sorted(_SCRIPT_LANGUAGES),
        "binding": _BINDING.pattern,
    }


@dataclass(frozen=True)
class Vue:
    """The two readings of a Vue component's side, both at the file's line numbers."""

    rules: str  # what the rules read: script, template code, custom blocks
    script: str  # the script blocks alone
    markup: str  # the template's code and custom blocks alone
    language: str  # the scripts' language


@dataclass(frozen=True)
class Masked:
    """A change as the rules read it, and for a Vue component how each part is compared."""

    change: FileChange
    script: FileChange | None = None
    markup: FileChange | None = None


@cache
def _html() -> Parser:
    return Parser(Language(tree_sitter_html.language()))


def _cut(data: bytes, spans: list[tuple[int, int]], keep: bool) -> str:
    """``data`` with only ``spans`` (``keep``) or all but them; a cut run becomes its line
    breaks, or one space."""
    spans = sorted(spans)
    if keep:
        inverse, at = [], 0
        for start, end in spans:
            if start > at:
                inverse.append((at, start))
            at = max(at, end)
        spans = [*inverse, (at, len(data))]
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out.append(data[at:start])
        breaks = data[start:end].count(b"\n")
        out.append(b"\n" * breaks if breaks else b" ")
        at = end
    out.append(data[at:])
    return b"".join(out).decode("utf-8", "surrogateescape")


def vue_views(source: str) -> Vue | None:
    """Both readings of one side of a ``.vue`` file, or ``None`` when it is not plain SFC."""
    data = source.encode("utf-8", "surrogateescape")
    if len(data) > MAX_PARSE_BYTES:
        return None
    root = _html().parse(data).root_node
    if root.has_error:
        return None
    script: list[tuple[int, int]] = []
    markup: list[tuple[int, int]] = []
    languages = set()
    for block in root.children:
        if block.type == "style_element" or block.type == "comment":
            continue
        if block.type == "script_element":
            lang = _attribute(block, "lang")
            if lang not in _SCRIPT_LANGUAGES:
                return None
            languages.add(_SCRIPT_LANGUAGES[lang])
            script += [(c.start_byte, c.end_byte) for c in block.children if c.type == "raw_text"]
        elif block.type == "element" and _tag(block) == "template":
            if _attribute(block, "lang") not in ("", "html"):
                return None
            found = _template_code(block, top=True)
            if found is None:
                return None
            markup += found
        elif block.type == "text" and not (block.text or b"").strip():
            continue
        else:  # a custom block (<i18n>, <docs>) or stray text: read whole, as before
            markup.append((block.start_byte, block.end_byte))
    language = "tsx" if "tsx" in languages else "typescript"
    if languages <= {"javascript"}:
        language = "javascript"
    return Vue(
        _cut(data, script + markup, keep=True),
        _cut(data, script, keep=True),
        _cut(data, markup, keep=True),
        language,
    )


def _tag(element: Node) -> str:
    for child in element.children:
        if child.type in ("start_tag", "self_closing_tag"):
            for part in child.children:
                if part.type == "tag_name":
                    return (part.text or b"").decode("utf-8", "replace")
    return ""


def _attribute(element: Node, name: str) -> str:
    """The static value of ``name`` on ``element``'s start tag (``""`` when absent)."""
    for child in element.children:
        if child.type not in ("start_tag", "self_closing_tag"):
            continue
        for attribute in child.children:
            if attribute.type != "attribute" or _name(attribute) != name:
                continue
            for value in _walk(attribute):
                if value.type == "attribute_value":
                    return (value.text or b"").decode("utf-8", "replace").strip().lower()
    return ""


def _name(attribute: Node) -> str:
    for part in attribute.children:
        if part.type == "attribute_name":
            return (part.text or b"").decode("utf-8", "replace")
    return ""


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _template_code(template: Node, *, top: bool = False) -> list[tuple[int, int]] | None:
    """Byte spans of a template's code (see the module docstring), ``None`` when unsure."""
    spans: list[tuple[int, int]] = []
    for node in template.children:
        kind = node.type
        if kind in ("start_tag", "self_closing_tag"):
            if top:
                continue
            tag = _tag(template)
            native = tag in HTML_ELEMENTS or (tag == "template" and not top)
            for part in node.children:
                code = part.type == "attribute" and _read(_name(part), native)
                if part.type == "tag_name" or code:
                    spans.append((part.start_byte, part.end_byte))
        elif kind == "element":
            inner = _template_code(node)
            if inner is None:
                return None
            spans += inner
        elif kind == "text":
            text = node.text or b""
            spans += [
                (node.start_byte + m.start(), node.start_byte + m.end())
                for m in _MUSTACHE.finditer(text.decode("utf-8", "surrogateescape"))
            ]
            if b"{{" in _MUSTACHE.sub("", text.decode("utf-8", "surrogateescape")).encode():
                return None  # an interpolation the grammar split: not sure what is code
        elif kind in ("end_tag", "comment", "entity", "style_element", "doctype"):
            continue
        else:  # a script inside a template, an unknown node: not sure
            return None
    return spans


def _read(name: str, native: bool) -> bool:
    """True when an attribute is code or decides what is sent (see the module docstring)."""
    lowered = name.lower()
    if _BINDING.match(lowered):
        return True
    if native:
        return lowered in KEPT
    return lowered not in _PRESENTATION


def styled_view(source: str, language: str) -> str | None:
    """``source`` with the literal text of CSS-tagged templates cut out, or ``None`` when it
    has none or does not parse cleanly."""
    data = source.encode("utf-8", "surrogateescape")
    if len(data) > MAX_PARSE_BYTES or not _CSS_TAGGED.search(source):
        return None
    root = parse(data, language).root_node
    if root.has_error and not _only_tagged_type_arguments(root):
        return None
    cut: list[tuple[int, int]] = []
    for node in QueryCursor(_tagged_query(language)).captures(root).get("c", []):
        function, argument = (
            node.child_by_field_name("function"),
            node.child_by_field_name("arguments"),
        )
        if function is None or argument is None or argument.type != "template_string":
            continue
        if _css_tag(function):
            cut += [
                (c.start_byte, c.end_byte)
                for c in argument.children
                if c.type in ("string_fragment", "escape_sequence")
            ]
    return _cut(data, cut, keep=False) if cut else None


@cache
def _tagged_query(language: str) -> Query:
    """Calls whose argument is a template: tagged templates (found natively, not walked)."""
    grammar = parse(b"", language).language
    return Query(grammar, "(call_expression arguments: (template_string)) @c")


def _only_tagged_type_arguments(root: Node) -> bool:
    """True when the tree's only faults are the ``!`` tree-sitter-typescript inserts after a
    tag with type arguments (``styled.div<Props>`...```): read as written otherwise."""
    for node in _walk(root):
        if node.is_error:
            return False
        if node.is_missing and not (
            node.type == "!"
            and node.parent is not None
            and node.parent.type == "non_null_expression"
            and node.parent.named_children[0].type == "instantiation_expression"
            and node.parent.parent is not None
            and node.parent.parent.type == "call_expression"
            and (arguments := node.parent.parent.child_by_field_name("arguments")) is not None
            and arguments.type == "template_string"
        ):
            return False
    return True


def _css_tag(function: Node) -> bool:
    """``css``, ``styled.x``, ``styled(X)`` and their ``.attrs(...)``/``.withConfig(...)``."""
    if function.type in ("non_null_expression", "instantiation_expression"):
        inner = function.named_children[0] if function.named_children else None
        return inner is not None and _css_tag(inner)  # ``styled.div<Props>`...```
    if function.type == "identifier":
        return (function.text or b"").decode() in CSS_TAGS
    if function.type == "member_expression":
        target = function.child_by_field_name("object")
        return target is not None and target.type == "identifier" and target.text == b"styled"
    if function.type == "call_expression":
        callee = function.child_by_field_name("function")
        if callee is None:
            return False
        if callee.type == "identifier":
            return callee.text == b"styled"
        prop = (
            callee.child_by_field_name("property") if callee.type == "member_expression" else None
        )
        target = callee.child_by_field_name("object") if prop is not None else None
        if prop is not None and target is not None:
            return (prop.text or b"").decode() in _STYLED_CHAINS and _css_tag(target)
    return False


def masked(change: FileChange) -> Masked | None:
    """``change`` as the rules read it, or ``None`` when nothing is cut or it cannot be."""
    path = change.path.lower()
    vue = path.endswith(".vue")
    if not vue and language_of(change.path) not in ("javascript", "typescript", "tsx"):
        return None  # neither a component nor a script: nothing to cut (checked again below)
    lines = numbered(change)
    if not lines or change.truncated or change.old_path.lower().endswith(".vue") != vue:
        return None
    sides = {"old": change.old_source, "new": change.new_source}
    absent = {"old": not change.removed and change.old_mode == "000000"}
    absent["new"] = not change.added and change.new_mode == "000000"
    if path.endswith(".vue"):
        views: dict[str, Vue | None] = {}
        for side, source in sides.items():
            views[side] = None if source is None else vue_views(source)
            if views[side] is None and not absent[side]:
                return None
        languages = {v.language for v in views.values() if v is not None}
        if len(languages) != 1:
            return None  # a script moved to another language: read as before
        ext = {"javascript": "js", "typescript": "ts", "tsx": "tsx"}[languages.pop()]
        return Masked(
            _read_as(change, lines, {s: v.rules if v else None for s, v in views.items()}),
            _read_as(change, lines, {s: v.script if v else None for s, v in views.items()}, ext),
            _read_as(change, lines, {s: v.markup if v else None for s, v in views.items()}),
        )
    language = language_of(change.path)
    if language not in ("javascript", "typescript", "tsx") or language_of(change.old_path) != (
        language
    ):
        return None
    styled = {s: None if t is None else styled_view(t, language) for s, t in sides.items()}
    if all(v is None for v in styled.values()):
        return None
    return Masked(_read_as(change, lines, {s: v or sides[s] for s, v in styled.items()}))


def _read_as(
    change: FileChange, lines: list[Line], views: dict[str, str | None], ext: str = ""
) -> FileChange:
    """``change`` with its sources and changed lines taken from ``views`` (``ext``: read
    under that extension, as a script block is)."""
    read = read_as(change, lines, views)
    if not ext:
        return read
    return replace(read, path=f"{change.path}.{ext}", old_path=f"{change.old_path}.{ext}")


def differing_markup(markup: FileChange) -> set[tuple[str, int]]:
    """Lines of each hunk whose template code differs between the sides (tokens compared)."""
    out: set[tuple[str, int]] = set()
    lines = numbered(markup)
    for old_start, old_count, new_start, new_count in markup.hunks:
        sides = []
        for side, start, count in (("old", old_start, old_count), ("new", new_start, new_count)):
            tokens = [
                (token, number)
                for s, number, text in lines
                if s == side and start <= number < start + count
                for token in _TOKEN.findall(text)
            ]
            sides.append(tokens)
        old, new = sides
        if [t for t, _ in old] != [t for t, _ in new]:
            out |= {("old", n) for _, n in old} | {("new", n) for _, n in new}
    return out


def markup_effective(vue: Masked) -> Effective | None:
    """The lines of a masked change that can alter behaviour: none when every changed line was
    cut whole (styles, static markup); for a Vue component the script's by the neutrality pass
    and the template's by its code's tokens; else the neutrality pass on what the rules read.
    ``None`` when it cannot be shown (the change is then read without the neutrality pass)."""
    if all(not text.strip() for _, _, text in numbered(vue.change)):
        return Effective(())
    if vue.script is None or vue.markup is None:
        return effective(vue.change)
    script = effective(vue.script)
    if script is None:
        return None
    texts = {(side, n): text for side, n, text in script.lines}
    changed = set(texts) | differing_markup(vue.markup)
    return Effective(
        tuple(
            (side, n, texts.get((side, n), text))
            for side, n, text in numbered(vue.change)
            if (side, n) in changed
        )
    )
