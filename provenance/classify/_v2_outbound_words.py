"""The vocabularies of ``_v2_outbound``: node types of each grammar, and the names that say
where a credential goes (``docs/decisions/0020-credential-use.md``).

Kept apart from the tree walk so the tables can be read, and hashed into ``@2``'s digest
(``outbound_document``), in one place.
"""

from __future__ import annotations

import re
from typing import Any

#: The word rules this stage may relieve; a word any other rule matches is never blanked.
RULES = frozenset(
    {
        "code.authn",
        "code.api-keys",
        "code.token-kinds",
        "code.token-word",
        "code.secrets",
        "code.secret-word",
        "code.password-word",
    }
)

#: Node types of entries (key, value) and of the literals holding them, per grammar.
PAIRS = frozenset({"pair", "keyed_element", "array_element_initializer"})
LITERALS = frozenset({"dictionary", "object", "hash", "literal_value", "array_creation_expression"})
#: Node types that only wrap one expression or literal on its way up.
WRAPPERS = frozenset(
    {"literal_element", "argument", "composite_literal", "parenthesized_expression"}
)
ARGUMENTS = frozenset({"argument_list", "arguments"})
KEYWORD = frozenset({"keyword_argument"})
CALLS = frozenset(
    {
        "call",
        "call_expression",
        "function_call_expression",
        "member_call_expression",
        "nullsafe_member_call_expression",
        "scoped_call_expression",
        "object_creation_expression",
        "new_expression",
        "method_invocation",
        "invocation_expression",
    }
)
ASSIGNMENTS = frozenset(
    {
        "assignment",
        "augmented_assignment",
        "assignment_expression",
        "assignment_statement",
        "short_var_declaration",
        "variable_declarator",
        "operator_assignment",
    }
)
#: Expression node types a plain read may be built of (calls are judged apart).
PLAIN = frozenset(
    {
        *("string", "string_content", "string_fragment", "interpolation", "template_string"),
        *("template_substitution", "interpreted_string_literal", "raw_string_literal"),
        *("interpreted_string_literal_content", "raw_string_literal_content"),
        *("encapsed_string", "concatenated_string", "escape_sequence", "string_start"),
        *("string_end", "format_specifier", "format_expression", "string_value"),
        *("attribute", "member_expression", "selector_expression", "member_access_expression"),
        *("nullsafe_member_access_expression", "field_expression", "scoped_identifier"),
        *("class_constant_access_expression", "scoped_property_access_expression"),
        *("subscript", "subscript_expression", "element_reference", "index_expression"),
        *("variable_name", "name", "identifier", "field_identifier", "property_identifier"),
        *("constant", "package_identifier", "scope_resolution", "this", "self"),
        *("parenthesized_expression", "binary_operator", "binary_expression", "integer"),
        *("true", "false", "none", "nil", "null", "int_literal", "number", "expression_list"),
        *("literal_element", "argument", "shorthand_property_identifier"),
    }
)
#: Operators that build a string from parts (``%``, ``+`` and PHP's ``.``).
FORMATTING_OPERATORS = frozenset({"%", "+", "."})
#: Calls that only format their arguments into a string.
FORMATTERS = re.compile(r"^(?:s?printf|sprintf|format|join|concat|str|string|strval)$")
#: Callee names (last name, words) that open or send an outbound HTTP request.
OUTBOUND = re.compile(
    r"\b(?:client|clients|post|put|patch|fetch|urlopen|request|requests|faraday|httpx"
    r"|curl|axios|http|https)\b"
)
#: Callee names that build a URL's query string (configured values only, see the docstring).
QUERY = re.compile(r"\b(?:urlencode|url ?encode|http ?build ?query|values|query ?string)\b")
#: Destinations that answer, render, log, persist or compare: never outbound use.
DENY = re.compile(
    r"\b(?:response|respond|render|redirect|json|jsonify|log|logger|print|debug|info|warn"
    r"|error|cookie|cookies|session|sessions|cache|save|store|write|insert|update|create"
    r"|set|verify|validate|check|compare|equal|equals|match|hash|sign)\b"
)
#: Names of the incoming request and what it carries.
INCOMING = frozenset(
    {"request", "req", "r", "params", "ctx", "context", "cookies", "session", "headers"}
)
INCOMING_PHP = frozenset({"_server", "_get", "_post", "_request", "_cookie"})
#: Names a configured value is read through.
CONFIG = re.compile(
    r"\b(?:settings|config|conf|cfg|configuration|opts|environ|getenv|env|credentials)\b"
)
#: Words of OAuth, OIDC and SAML exchanges: such a request is an identity flow, not a use.
PROTOCOL = re.compile(
    r"\b(?:grant ?type|client ?secret|client ?assertion|authorization ?code|code ?verifier"
    r"|refresh ?token|id ?token|assertion|saml\w*|oauth\w*|o auth\w*|oidc|openid"
    r"|introspect\w*|revoke|revocation|jwt|jwks?)\b"
)
#: Last names of calls that read one configured value by its literal name.
CONFIG_GETTER = re.compile(r"^(?:get|getenv|env|config|fetch|setting|settings|lookup env)$")
#: Verbs of getters that make a credential rather than read one (``create_token()``).
MINTING = re.compile(
    r"\b(?:create|generate|new|make|issue|sign|signed|mint|encode|random|rotate|refresh|build"
    r"|compute|hash|encrypt|derive|exchange|login|authenticate|authorize|obtain|request|fetch"
    r"|acquire|impersonate)\b"
)
#: Setters of one header or parameter on a request object (``req.Header.Set(name, value)``).
SETTER = re.compile(
    r"^(?:set|add|append|put|set request header|set header|add header|with header|with headers"
    r"|header|with token)$"
)
#: Verbs of outbound calls that other objects share (``dict.get``, ``request.GET.get``): they
#: count only on a receiver named for a client or made for a call in the same function.
SHARED_VERBS = frozenset({"get", "delete", "head", "options"})
#: Receivers that are the object itself, not a name.
SELVES = frozenset({"self", "this", "cls"})
#: Calls that make a new, empty container a client fills (``new Headers()``, ``dict()``).
CONTAINERS = frozenset({"headers", "header", "dict", "hash", "map", "object"})
#: Node types of functions (the scope a request object made for a call lives in).
FUNCTIONS = frozenset(
    {
        *("function_definition", "function_declaration", "method_declaration", "func_literal"),
        *("method", "singleton_method", "function_expression", "arrow_function", "lambda"),
        *("method_definition", "function_item", "anonymous_function", "closure_expression"),
        *("constructor_declaration", "lambda_expression", "do_block", "block"),
    }
)
#: Headers only a client sends: a literal naming them, assigned to ``headers``, is a request.
REQUEST_HEADERS = re.compile(r"^(?:proxy-)?authorization$", re.IGNORECASE)
#: Words of a callee named for a credential (``get_api_key``): it does more than send one.
CREDENTIAL = re.compile(r"\b(?:auth\w*|tokens?|keys?|secrets?|passwords?|credentials?)\b")
#: Node types of leaves that can carry a credential word.
WORDY = re.compile(r"identifier|name|content|fragment|constant|symbol|string")


def outbound_document() -> dict[str, Any]:
    """This stage's vocabularies, JSON-ready (hashed into ``@2``'s digest)."""
    return {
        "rules": sorted(RULES),
        "outbound": OUTBOUND.pattern,
        "query": QUERY.pattern,
        "deny": DENY.pattern,
        "incoming": sorted(INCOMING | INCOMING_PHP),
        "config": CONFIG.pattern,
        "request_headers": REQUEST_HEADERS.pattern,
        "formatters": FORMATTERS.pattern,
        "config_getters": CONFIG_GETTER.pattern,
        "minting": MINTING.pattern,
        "setters": SETTER.pattern,
        "protocol": PROTOCOL.pattern,
        "containers": sorted(CONTAINERS),
        "shared_verbs": sorted(SHARED_VERBS),
        "credential_callees": CREDENTIAL.pattern,
    }
