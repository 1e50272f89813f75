"""Credentials the application only sends to a service it calls, read on the syntax tree.

IDENTITY-RUBRIC.md counts validating API keys and tokens, issuing and verifying them, and how
credentials are generated, stored, rotated or exposed. It does not count the application acting
as the client of another service with a key it already holds: ``headers = {"Authorization":
f"GenieKey {channel.key}"}``, ``urlencode({"access_token": settings.MATRIX_ACCESS_TOKEN})``,
``readeck.NewClient(url, integration.ReadeckAPIKey)`` decide nothing about who can act here.
Word rules (``code.authn``, ``code.api-keys``, ``code.token-kinds`` ...) fire on them all the
same (``docs/decisions/0020-credential-use.md``).

A credential word on a changed line is *outbound use* when its syntax tree shows all of:

1. it is a key or a value of an entry of a map/dict/hash/array literal, a keyword argument, or
   a direct argument of a call;
2. the value handed over is a plain read: names, member and index accesses, getters called
   without arguments, string literals and string formatting of those; no call that could
   create, sign, look up or compare a credential, no comparison, no assignment, and no read
   of the incoming request (``request``, ``req``, ``params``, ``ctx``, ``cookies``,
   ``session``, ``headers``: forwarding a caller's credential acts as them);
3. where it goes is outbound: a call named for an HTTP client or request (``NewClient``,
   ``requests.post``, ``fetch``, ``Faraday.new`` ...), nested literals included; a query
   builder (``urlencode``, ``http_build_query``, ``url.Values``) only for values read from
   configuration (``settings``, ``config``, the environment), since a URL built with a
   user's token may be a redirect that hands it out; a literal assigned to a ``headers``
   variable only for the request-only headers ``Authorization`` and ``Proxy-Authorization``;
   a header setter (``req.Header.Set``, ``withToken``) or a verb other objects share
   (``get``, ``delete``) only on a receiver the function made with an outbound constructor
   or one named for a client, never the incoming request (``r``, ``c.Request``);
4. the request speaks no identity protocol itself (OAuth, OIDC and SAML words: a code
   exchange, a refresh or an assertion is a flow the rubric counts).

Such words are blanked on the line before the content rules read it again; every other word
stays. Anything the tree cannot show (no grammar, a side that does not parse, a name the
vocabularies do not know) keeps the line as it was: the change counts (fail closed).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence

from tree_sitter import Node

from provenance.classify._locate import Line
from provenance.classify._normalize import words_view
from provenance.classify._v2_outbound_words import (
    ARGUMENTS,
    ASSIGNMENTS,
    CALLS,
    CONFIG,
    CONFIG_GETTER,
    CONTAINERS,
    CREDENTIAL,
    DENY,
    FORMATTERS,
    FORMATTING_OPERATORS,
    FUNCTIONS,
    INCOMING,
    INCOMING_PHP,
    KEYWORD,
    LITERALS,
    MINTING,
    OUTBOUND,
    PAIRS,
    PLAIN,
    PROTOCOL,
    QUERY,
    REQUEST_HEADERS,
    RULES,
    SELVES,
    SETTER,
    SHARED_VERBS,
    WORDY,
    WRAPPERS,
)
from provenance.classify.syntax import MAX_PARSE_BYTES, language_of, parse


def without_outbound(
    path: str,
    sources: dict[str, str | None],
    lines: Sequence[Line],
    mentions: Callable[[str], frozenset[str]],
) -> list[Line] | None:
    """``lines`` with each outbound use of a credential blanked, or ``None`` if there is none.

    ``sources`` maps a side (``old``, ``new``) to its whole text; ``mentions`` gives the ids
    of the content rules that match a text. A side without a grammar, a source or a clean
    parse keeps its lines.
    """
    language = language_of(path)
    if language is None:
        return None
    try:
        return _without(language, sources, lines, mentions)
    except RecursionError:
        return None  # nesting deeper than the walk goes: every line is read (fail closed)


def _without(
    language: str,
    sources: dict[str, str | None],
    lines: Sequence[Line],
    mentions: Callable[[str], frozenset[str]],
) -> list[Line] | None:
    trees: dict[str, tuple[bytes, Node] | None] = {}
    leaves: dict[str, dict[int, list[Node]]] = {}
    out: list[Line] = []
    blanked = False
    for side, number, text in lines:
        if side not in trees:
            trees[side] = parsed = _tree(sources.get(side), language)
            if parsed is not None:  # every judged row of the side, in one descent
                rows = {n - 1 for s, n, _ in lines if s == side}
                leaves[side] = leaves_by_row(parsed[1], rows)
        parsed = trees[side]
        if parsed is not None:
            on_row = leaves[side].get(number - 1, ())
            new_text = _blank(parsed[0], on_row, text, mentions)
        else:
            new_text = text
        blanked = blanked or new_text != text
        out.append((side, number, new_text))
    return out if blanked else None


def _tree(source: str | None, language: str) -> tuple[bytes, Node] | None:
    if source is None:
        return None
    data = source.encode("utf-8", "surrogateescape")
    if len(data) > MAX_PARSE_BYTES:
        return None
    root = parse(data, language).root_node
    return None if root.has_error else (data, root)


def _blank(
    data: bytes, leaves: Iterable[Node], text: str, mentions: Callable[[str], frozenset[str]]
) -> str:
    """The line's text with the credential words the tree shows are outbound use blanked
    (``leaves``: the tree's named leaves on the line, ``leaves_by_row``)."""
    line = text.encode("utf-8", "surrogateescape")
    cuts = []
    for leaf in leaves:
        word = data[leaf.start_byte : leaf.end_byte]
        found = mentions(word.decode("utf-8", "surrogateescape"))
        if not found or not found <= RULES or not _outbound(leaf, data):
            continue
        column = leaf.start_point[1]
        if line[column : column + len(word)] != word:
            return text  # the judged line is not the source's line: keep it whole
        cuts.append((column, column + len(word)))
    for start, end in sorted(cuts, reverse=True):
        line = line[:start] + b" " * (end - start) + line[end:]
    return line.decode("utf-8", "surrogateescape")


def leaves_by_row(root: Node, rows: Iterable[int]) -> dict[int, list[Node]]:
    """Named leaves that may carry words, by the row (0-based) they lie wholly on, for
    ``rows`` only.

    One descent for all the judged lines of a side: only nodes spanning one of ``rows`` are
    opened, so a line costs about the nodes on it, not a descent from the root per line.
    Which leaves a row gets does not depend on the other rows asked for.
    """
    wanted = sorted(set(rows))
    found: dict[int, list[Node]] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        start, end = node.start_point[0], node.end_point[0]
        at = bisect_left(wanted, start)
        if at == len(wanted) or wanted[at] > end:
            continue  # no asked row within the node
        if node.child_count:
            stack.extend(node.children)
        elif start == end and node.is_named and WORDY.search(node.type):
            found.setdefault(start, []).append(node)
    return found


def _outbound(leaf: Node, data: bytes) -> bool:
    """True when the tree shows ``leaf`` is a credential handed to an outbound request."""
    node = leaf
    while True:
        parent = node.parent
        if parent is None:
            return False
        if parent.type in CALLS and not _same(node, _arguments(parent)):
            if not _plain(parent, data):
                return False
        elif parent.type in ARGUMENTS and _is_formatter(parent.parent, data):
            parent = parent.parent  # ``fmt.Sprintf("Bearer %s", key)``: still a plain value
            assert parent is not None
        elif parent.type not in PLAIN or parent.type in WRAPPERS:
            break
        node = parent
    return _slot(node, parent, data)


def _slot(value: Node, slot: Node, data: bytes) -> bool:
    """``value`` sits in ``slot``: an entry, keyword argument or argument of an outbound call."""
    if slot.type in PAIRS:
        parts = slot.named_children
        if len(parts) != 2 or not _plain(_unwrap(parts[1]), data):
            return False
        key = _text(_unwrap(parts[0]), data).strip("'\":")
        holder = slot.parent
        if holder is not None and holder.type in ARGUMENTS:  # Ruby keyword arguments
            return _call_takes(holder.parent, parts[1], data)
        return holder is not None and _literal_goes_out(holder, key, parts[1], data)
    if slot.type in KEYWORD:
        value = slot.child_by_field_name("value") or value
        return _plain(value, data) and _call_takes(_up(slot.parent), value, data)
    if slot.type in WRAPPERS and slot.type != "parenthesized_expression":
        return _slot(slot, slot.parent, data) if slot.parent is not None else False
    if slot.type in ARGUMENTS:
        return _plain(value, data) and _call_takes(slot.parent, value, data)
    if slot.type in ASSIGNMENTS:
        return _header_assigned(slot, data)
    return False


def _header_assigned(assignment: Node, data: bytes) -> bool:
    """``headers["Authorization"] = value``: a request-only header set on a ``headers`` object
    that is not the incoming request's, to a plain value that does not come from it."""
    parts = assignment.named_children
    if len(parts) < 2:
        return False
    left, right = parts[0], parts[-1]
    if left.type not in PLAIN or not left.named_children:
        return False
    holder, key = left.named_children[0], left.named_children[-1]
    scope = assignment.parent
    while scope is not None and scope.type not in FUNCTIONS:
        scope = scope.parent
    return (
        holder.type == "identifier"
        and words_view(_text(holder, data)) == "headers"
        and scope is not None
        and _built_here(scope, _text(holder, data), data)
        and bool(REQUEST_HEADERS.match(_text(key, data).strip("'\"")))
        and _plain(right, data)
        and not _incoming(right, data)
        and not _protocol(assignment, data)
    )


def _literal_goes_out(literal: Node, key: str, value: Node, data: bytes) -> bool:
    """A literal holding ``key: value`` is passed to an outbound call (or is request headers)."""
    node = literal
    while node.parent is not None and (
        node.parent.type in WRAPPERS or node.parent.type in LITERALS
    ):
        node = node.parent
    parent = node.parent
    if parent is None:
        return False
    if parent.type in PAIRS:  # nested: ``{headers: {Authorization: ...}}``
        holder = parent.parent
        if holder is not None and holder.type in ARGUMENTS:
            return _call_takes(holder.parent, value, data)
        return holder is not None and _literal_goes_out(holder, key, value, data)
    if parent.type in KEYWORD:
        return _call_takes(_up(parent.parent), value, data)
    if parent.type in ARGUMENTS:
        return _call_takes(parent.parent, value, data)
    if _protocol(node, data):
        return False
    if parent.type in ASSIGNMENTS:
        target = parent.named_children[0] if parent.named_children else None
        named = words_view(_last_name(_text(target, data))) if target is not None else ""
        return (
            named == "headers" and bool(REQUEST_HEADERS.match(key)) and not _incoming(value, data)
        )
    if node.type == "composite_literal" or parent.type == "composite_literal":
        return _destination(_text(node.named_children[0], data)) == "query" and _configured(
            value, data
        )
    return False


def _call_takes(call: Node | None, value: Node, data: bytes) -> bool:
    """``call`` opens an outbound request (any plain value) or builds a query (configured)."""
    call = _up(call)
    parts = _call_parts(call, data)
    if call is None or parts is None:
        return False
    callee, arguments = parts
    if _incoming(value, data) or _protocol(call, data):
        return False
    last = words_view(_last_name(callee))
    if SETTER.match(last):
        return _sets_outbound(call, callee, arguments, data)
    if last in SHARED_VERBS:  # ``requests.get``, ``self.client.delete``; not ``request.GET.get``
        return _outbound_receiver(call, callee, data)
    kind = _destination(callee)
    return kind == "client" or (kind == "query" and _configured(value, data))


def _sets_outbound(call: Node, callee: str, arguments: Node, data: bytes) -> bool:
    """``req.Header.Set("Authorization", value)`` on a request made for a call.

    The receiver must be a client or a request this function made for a call (see
    ``_outbound_receiver``): a handler's own incoming request (``r``, a parameter, Gin's
    ``c.Request``) is never one. Every argument is a plain read that does not come from the
    incoming request.
    """
    if not all(_plain(a, data) and not _incoming(a, data) for a in arguments.named_children):
        return False
    return _outbound_receiver(call, callee, data)


def _outbound_receiver(call: Node, callee: str, data: bytes) -> bool:
    """The callee's receiver is assigned, in the enclosing function, from a call named for an
    outbound request or client (``req, _ := http.NewRequest(...)``), or is itself named for
    one (``Http::withToken``, ``self.client.get``, ``requests.get``) and is no name of the
    incoming request (``request``, ``req``, ``r``, ``ctx`` ...)."""
    names = [n for n in _names(callee)[:-1] if n.lower() not in SELVES]
    if not names:  # a bare ``set(...)`` or ``get(...)`` has no request to act on
        return False
    root = names[0]
    scope = call.parent
    while scope is not None and scope.type not in FUNCTIONS:
        scope = scope.parent
    if scope is not None and _made_for_a_call(scope, root, data):
        return True
    return root.lower() not in INCOMING and _destination(root) == "client"


def _made_for_a_call(scope: Node, root: str, data: bytes) -> bool:
    """``root`` is assigned in ``scope`` from a call that makes an outbound request or client."""
    return any(
        (parts := _call_parts(made, data)) is not None and _destination(parts[0]) == "client"
        for made in _assigned(scope, root, data)
    )


def _built_here(scope: Node, name: str, data: bytes) -> bool:
    """``name`` is assigned in ``scope`` from a new literal or ``Headers`` object, never from
    something read (``headers = request.headers`` aliases the incoming request's)."""
    return any(
        made.type in LITERALS or _callee_words(made, data) in CONTAINERS
        for made in _assigned(scope, name, data)
    )


def _assigned(scope: Node, name: str, data: bytes) -> Iterator[Node]:
    """The values assigned in ``scope`` to ``name`` (first target of Go's ``a, err :=``)."""
    for node in _walk(scope):
        if node.type in ASSIGNMENTS and len(node.named_children) >= 2:
            targets = _names(_text(node.named_children[0], data))
            if targets and targets[0] == name:
                yield _unwrap_list(node.named_children[-1])


def _callee_words(call: Node, data: bytes) -> str:
    """The words of a call's last name (``new Headers()`` -> ``headers``), or ``""``."""
    parts = _call_parts(call, data)
    return "" if parts is None else words_view(_last_name(parts[0]))


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.named_children)


def _unwrap_list(node: Node) -> Node:
    """The first expression of Go's ``expression_list`` (or the node itself)."""
    while node.type == "expression_list" and node.named_children:
        node = node.named_children[0]
    return node


def _destination(callee: str) -> str | None:
    """``client``, ``query`` or ``None`` for a callee's text (``readeck.NewClient``)."""
    names = _names(callee)
    if not names:
        return None
    last = names[-1]
    if last.lower() == "new" and len(names) > 1:  # Faraday.new, Net::HTTP.new, Client.new
        last = names[-2]
    words = words_view(last)
    if DENY.search(words) or _credential_words(words):
        return None
    if OUTBOUND.search(words):
        return "client"
    return "query" if QUERY.search(words) else None


def _protocol(node: Node, data: bytes) -> bool:
    """The request speaks OAuth/OIDC/SAML itself (a code exchange, a refresh, an assertion):
    a sign-in or token flow the rubric counts, whoever the provider is."""
    return PROTOCOL.search(words_view(_text(node, data))) is not None


def _credential_words(words: str) -> bool:
    """A callee named for a credential (``get_api_key``) does more than send it."""
    return CREDENTIAL.search(words) is not None


def _plain(node: Node, data: bytes) -> bool:
    """A plain read: names, accesses, literals, formatting and argument-less getters."""
    if node.type in CALLS:
        parts = _call_parts(node, data)
        if parts is None:
            return node.type == "call" and all(_plain(c, data) for c in node.named_children)
        callee, arguments = parts
        last = words_view(_last_name(callee))
        args = arguments.named_children
        if not args:  # a getter (``config.Opts.YouTubeApiKey()``), never a minting verb
            return not MINTING.search(last) and _plain_callee(node, arguments, data)
        if _is_formatter(node, data):
            return all(_plain(a, data) for a in args)
        return (  # ``os.getenv("KEY")``, ``config("services.x.key")``, ``ENV.fetch("KEY")``
            bool(CONFIG_GETTER.match(last))
            and bool(CONFIG.search(words_view(callee)))
            and all(_literal(a) for a in args)
        )
    if node.type not in PLAIN:
        return False
    if node.type in {"binary_operator", "binary_expression"}:
        operator = node.child_by_field_name("operator")
        if operator is None or _text(operator, data) not in FORMATTING_OPERATORS:
            return False
    return all(_plain(c, data) for c in node.named_children)


def _plain_callee(call: Node, arguments: Node, data: bytes) -> bool:
    """The callee of an argument-less call is itself a plain read."""
    return all(_plain(c, data) for c in call.named_children if not _same(c, arguments))


def _literal(node: Node) -> bool:
    """A string or number literal (maybe wrapped as an argument)."""
    node = _unwrap(node)
    return node.type in {"string", "encapsed_string", "interpreted_string_literal"} and not any(
        c.type in {"interpolation", "template_substitution"} for c in node.named_children
    )


def _is_formatter(call: Node | None, data: bytes) -> bool:
    parts = _call_parts(call, data)
    return parts is not None and bool(FORMATTERS.match(_last_name(parts[0]).lower()))


def _call_parts(call: Node | None, data: bytes) -> tuple[str, Node] | None:
    """A call's callee text (``readeck.NewClient``, ``new Client``) and its arguments node."""
    if call is None or call.type not in CALLS:
        return None
    arguments = _arguments(call)
    if arguments is None:
        return None
    return data[call.start_byte : arguments.start_byte].decode("utf-8", "replace"), arguments


def _incoming(node: Node, data: bytes) -> bool:
    """The value reads the incoming request (``request.headers[...]``, ``$_SERVER``)."""
    for leaf in _named_leaves(node):
        name = _text(leaf, data).lstrip("$@").lower()
        if leaf.type != "string_content" and (name in INCOMING or name in INCOMING_PHP):
            return True
    return False


def _configured(node: Node, data: bytes) -> bool:
    """The value is read from configuration (``settings.X``, ``os.environ["X"]``)."""
    return CONFIG.search(words_view(_text(node, data))) is not None and not _incoming(node, data)


def _named_leaves(node: Node) -> Iterator[Node]:
    return (n for n in _walk(node) if not n.named_child_count)


def _same(a: Node | None, b: Node | None) -> bool:
    """The same node (tree-sitter hands out a new wrapper on each access)."""
    if a is None or b is None:
        return a is b
    return (a.start_byte, a.end_byte, a.type) == (b.start_byte, b.end_byte, b.type)


def _arguments(call: Node) -> Node | None:
    return next((c for c in call.children if c.type in ARGUMENTS), None)


def _unwrap(node: Node) -> Node:
    while node.type in WRAPPERS and node.named_child_count == 1:
        child = node.named_children[0]
        if child.type in LITERALS:
            break
        node = child
    return node


def _up(node: Node | None) -> Node | None:
    """From an argument list to its call."""
    if node is not None and node.type in ARGUMENTS:
        return node.parent
    return node


def _names(text: str) -> list[str]:
    return re.findall(r"[A-Za-z_]\w*", text)


def _last_name(text: str) -> str:
    names = _names(text)
    return names[-1] if names else ""


def _text(node: Node, data: bytes) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", "surrogateescape")
