"""Is a JSON or YAML file in a translation folder really a translation catalogue?

Folders such as ``locale/`` or ``i18n/`` only make *catalogues* inert (THREATS.md G46): a
ClusterRoleBinding in ``deploy/locale/`` must be read like anywhere else. JSON and YAML are
both catalogue and configuration formats, so they are inert there only when the whole file
(both sides of the change) reads as one, and anything else fails closed:

- **JSON** (i18next, miniflux, Chrome ``messages.json`` ...): an object whose values are
  strings, lists of strings (plural forms) or objects of the same kind, nothing else (no
  numbers, booleans, nulls or lists of objects, which IAM policies and Kubernetes manifests
  cannot do without), in a file or folder named by a locale (``de_DE.json``,
  ``locales/en/common.json``, ``messages.fr.json``).
- **YAML** (Rails and Symfony ``config/locales/*.yml``): every top-level key is a locale code
  (``en:``, ``"pt-BR":``), every other line is indented, a comment or blank, and there are no
  tags (``!ruby/object``), directives or further documents.

Either way, no entry may be a setting: a key naming identity configuration
(``client_secret``, ``issuer``, ``allowed_domains``, ``signing_key`` ...) whose value is not
text for people (``"s3cr3t"``, ``"evil.example"``, a URL), or a bare switch (``"false"``)
under an identity key (``require_mfa``). Labels such as ``"wallabag_client_secret": "Client
Secret"`` stay messages. A catalogue-shaped file with a setting is read as configuration,
where the identity config-key rules apply (red-team 08).
"""

from __future__ import annotations

import json
import re

from provenance.classify._normalize import words_view

#: ISO 639-1 language codes, plus the three-letter codes locale folders commonly use.
_LANGUAGES = frozenset(
    re.findall(
        r"[a-z]+",
        """
        aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
        cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
        ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
        ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
        nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
        sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
        vi vo wa wo xh yi yo za zh zu ast ckb fil gsw haw yue sat
        """,
    )
)
_LOCALE = re.compile(r"([a-z]{2,3})(?:[-_](?:[A-Za-z]{4}|[A-Za-z]{2}|\d{3}))*", re.ASCII)
_YAML_ROOT_KEY = re.compile(r"""^(?:"([^"]+)"|'([^']+)'|([^\s:#'"]+))\s*:\s*(?:#.*)?$""")
_YAML_TAG = re.compile(r"(?:^|[\s:\-\[{,])!")
_MAX_DEPTH = 32


def is_locale(name: str) -> bool:
    """True for a locale code such as ``en``, ``pt-BR``, ``zh_Hant_TW`` or ``sr-Latn``."""
    m = _LOCALE.fullmatch(name)
    return m is not None and m.group(1).lower() in _LANGUAGES


def _named_by_locale(path: str) -> bool:
    """True when the file name, one of its dotted parts, or its folder is a locale code."""
    parts = path.replace("\\", "/").split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    candidates = [stem, *stem.split("."), *(parts[-2:-1])]
    return any(is_locale(c) for c in candidates)


#: Key words of identity configuration. Catalogues use them too, as labels
#: (``"form.wallabag_client_secret": "Wallabag Client Secret"``), so a key counts only with a
#: value that is not text for people.
_CONFIG_KEY = re.compile(
    r"\b(?:client (?:ids?|secrets?)|secrets?|issuers?|audiences?|jwks?(?: uri)?|(?:private"
    r"|signing|secret|api|access|encryption|session|master) keys?|redirect (?:uris?|urls?)"
    r"|callback urls?|(?:allowed|trusted|permitted|blocked|denied) \w+|(?:allow|deny|white"
    r"|black|block) ?lists?|tenant ids?|credentials?|passwords?|tokens?|bind (?:dn|pw)"
    r"|base dn|discovery (?:url|uri|endpoint)|well known|authori[sz]ation (?:url|endpoint)"
    r"|user ?info (?:url|endpoint))\b"
)
#: Words of any identity setting: under them a bare switch is a setting, not a message.
_IDENTITY_KEY = re.compile(
    r"\b(?:auth\w*|mfa|2fa|otp|totp|sso|oidc|saml|ldap|oauth\w*|login|signin|sign in|signup"
    r"|admins?|roles?|permissions?|sessions?|tokens?|passwords?|csrf|cors|secure|verify\w*"
    r"|require\w*|enforce\w*|allow\w*|deny\w*|public|anonymous|guest|invite\w*)\b"
)
#: Values that switch something, never text for people (lower case, as settings are written).
_SWITCH = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "0", "1"})


def _for_people(value: str) -> bool:
    """Does a string read as a message (words, non-ASCII text), not a secret, URL or domain?"""
    text = value.strip()
    return not text or any(c.isspace() or not c.isascii() for c in text) or text.isalpha()


def _setting(key_words: str, value: str) -> bool:
    """A catalogue entry that is really a setting: an identity key with a non-message value."""
    if value.strip() in _SWITCH and _IDENTITY_KEY.search(key_words):
        return True
    return not _for_people(value) and _CONFIG_KEY.search(key_words) is not None


def _string_table(value: object, keys: str = "", depth: int = 0) -> bool:
    if isinstance(value, str):
        return not _setting(keys, value)
    if isinstance(value, list):  # plural forms: strings only, never objects
        return all(isinstance(v, str) and not _setting(keys, v) for v in value)
    if not isinstance(value, dict) or depth > _MAX_DEPTH:
        return False
    return all(
        _string_table(v, f"{keys} {words_view(k.replace('.', ' '))}", depth + 1)
        for k, v in value.items()
    )


def json_catalogue(path: str, source: str) -> bool:
    """True when ``source`` is a JSON translation catalogue named by a locale."""
    if not _named_by_locale(path):
        return False
    try:
        data = json.loads(source)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and _string_table(data)


def yaml_catalogue(source: str) -> bool:
    """True when every top-level key of ``source`` is a locale and nothing else is at the top."""
    roots = 0
    for n, line in enumerate(source.splitlines()):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _YAML_TAG.search(line) and not _only_in_quotes(line):
            return False
        if line[0] in " \t":
            if roots == 0:
                return False
            continue
        if stripped == "---" and roots == 0 and n < 5:
            continue
        m = _YAML_ROOT_KEY.match(line)
        key = m and next(g for g in m.groups() if g is not None)
        if not key or not is_locale(key):
            return False
        roots += 1
    return roots > 0 and not _yaml_settings(source)


_YAML_ENTRY = re.compile(r"""^(\s*)(?:-\s*)?["']?([^"':#]+?)["']?\s*:(?:\s+(.*?))?\s*$""")


def _yaml_settings(source: str) -> bool:
    """Does a YAML catalogue hold a setting (see ``_setting``) under any of its keys?"""
    stack: list[tuple[int, str]] = []  # (indent, key words) of the keys above this line
    for line in source.splitlines():
        m = _YAML_ENTRY.match(line)
        if m is None:
            continue
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        words = " ".join(w for _, w in stack) + " " + words_view(m.group(2).replace(".", " "))
        value = (m.group(3) or "").split(" #", 1)[0].strip()
        items = [v.strip().strip("'\"") for v in value.strip("[]").split(",")]
        if value and any(_setting(words, v) for v in items):
            return True
        stack.append((indent, words_view(m.group(2).replace(".", " "))))
    return False


def _only_in_quotes(line: str) -> bool:
    """True when every ``!`` of a line sits inside a quoted scalar (``"Welcome!"``)."""
    outside = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'', "", line)
    return not _YAML_TAG.search(outside)
