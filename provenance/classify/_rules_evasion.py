"""Built-in rules for code that hides what it runs (THREATS.md G49).

Decoded-then-executed data is unreadable in review, whatever it does, so running it is
identity-related unless the policy excludes the path. Archives and compiled code cannot be
read from a diff at all: the rule fires on their paths and never opens them.
"""

from __future__ import annotations

import re
from functools import cache

from provenance.classify._branches import Branches
from provenance.classify._model import ContentRule, PathRule, View
from provenance.classify._rules_authn import CODE_CONF
from provenance.models import FileChange

#: A call that runs text or bytes as code (member calls only where they are the builtin).
_EXEC = (
    r"(?:(?<![\w.$])(?:exec|eval|execfile|compile|Function|execScript|create_function"
    r"|assert|instance_eval|class_eval|module_eval|instance_exec)"
    r"|(?:builtins|__builtins__|window|globalThis|self|vm|Kernel|binding)\."
    r"(?:exec|eval|runIn\w*Context|compileFunction)"
    r"|\brunIn\w*Context|\bdefineClass|\bAssembly\.Load"
    r"|\bScriptEngine\w*\.eval)\s*[(\s]"
)
#: Something that turns unreadable text into code: base64, hex, compression, marshalling.
_DECODE = (
    r"(?:b(?:16|32|64|85)decode|a85decode|decodebytes|decodestring|\bbase64\b|codecs\.decode"
    r"|(?:zlib|gzip|bz2|lzma)\.decompress|marshal\.loads|fromhex|unhexlify|rot.?13"
    r"|\batob\s*\(|fromCharCode|\bunescape\s*\(|decodeURIComponent|TextDecoder"
    r"|base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|hex2bin|convert_uudecode"
    r"|decode64|unpack1?\s*\(?\s*['\"][mu]|Zlib::Inflate|FromBase64String|getDecoder\(\)"
    r"|getMimeDecoder|parseBase64Binary)"
)
#: ``... | base64 -d | sh`` and friends.
_SHELL = (
    r"(?:base64\s+(?:-d|--decode|-D)|xxd\s+-r|openssl\s+(?:enc\s+)?(?:-d\s+)?-?base64\s+-d)"
    r"[^\n]{0,200}?\|\s*(?:sudo\s+)?(?:(?:ba|z|da|k|c)?sh|python\d?|perl|ruby|node|php)\b"
)

EVASION_RULES: tuple[ContentRule, ...] = (
    ContentRule(
        "code.dynamic-exec",
        "runs data decoded at run time (exec/eval of base64, hex, zlib, marshal, atob ...)",
        rf"(?s){_EXEC}.{{0,400}}?{_DECODE}|{_DECODE}.{{0,400}}?{_EXEC}|{_SHELL}",
        CODE_CONF,
        view=View.RAW,
        hints=(
            "exec",
            "eval",
            "compile",
            "function",
            "assert",
            "runin",
            "defineclass",
            "assembly.load",
            "base64",
            "xxd",
        ),
    ),
)

EVASION_PATH_RULES: tuple[PathRule, ...] = (
    PathRule(
        "path.packaged-code",
        "archives and compiled code: what they contain cannot be read from the diff",
        (
            *("*.whl", "*.egg", "*.jar", "*.war", "*.ear", "*.aar", "*.apk", "*.gem"),
            *("*.nupkg", "*.phar", "*.pyz", "*.pex", "*.par", "*.xpi", "*.crx", "*.vsix"),
            *("*.deb", "*.rpm", "*.zip", "*.tar", "*.tar.*", "*.tgz", "*.tbz2", "*.txz"),
            *("*.7z", "*.rar", "*.pyc", "*.pyo", "*.pyd", "*.class", "*.so", "*.so.*"),
            *("*.dll", "*.dylib", "*.exe", "*.wasm", "*.node"),
            # loaded by pickle or as code, even when not binary (protocol 0 pickles are text)
            *("*.pkl", "*.pickle", "*.joblib", "*.pt", "*.pth", "*.ckpt", "*.npy", "*.npz"),
            *("*.jmod", "*.jsc", "*.beam", "*.dex", "*.o", "*.a", "*.lib", "*.gz", "*.xz"),
            *("*.zst", "*.bz2", "*.lz", "*.lz4", "*.lzma", "*.z", "*.cpio", "*.appimage"),
            *("*.msi", "*.cab", "*.luac", "*.bc"),
        ),
        always=True,
    ),
)


#: Calls that run or load code, per language, matched on *added* lines of code (not tests)
#: whatever is decoded near them: a decoder 400 characters away, a pickle, a code object, a
#: name built at run time or a ``data:`` module hide what runs just as well (red-team 05).
#: Engine-level: applied by the classifier for every ruleset version (``code.dynamic-exec``).
RUNS_CODE: dict[str, str] = {
    "python": (
        r"(?<![\w.])(?:exec|eval|execfile|compile|__import__)\s*\("
        r"|\b(?:c?[pP]ickle|_pickle|dill|cloudpickle|marshal|shelve|jsonpickle)\s*\.\s*"
        r"(?:loads?|Unpickler|decode|open)\b|\b(?:Function|Code|Lambda)Type\s*\("
        r"|\bgetattr\s*\(\s*(?:builtins|__builtins__|__import__\s*\(|globals\s*\(|vars\s*\()"
        r"|\b(?:builtins|__builtins__)\s*(?:\.\s*__dict__\s*)?\["
        r"|\b(?:globals|vars|locals)\s*\(\s*\)\s*\[\s*(?!['\"]\w+['\"]\s*\])"
        r"|\byaml\s*\.\s*(?:unsafe_load\w*|load\w*\s*\([^)]*Loader\s*=\s*(?:yaml\.)?"
        r"(?:Unsafe|Full)?Loader\b)|\ballow_pickle\s*=\s*True|\b(?:torch|joblib)\s*\.\s*load\s*\("
        r"|\bexec_module\s*\(|\brunpy\s*\.\s*run_\w+|\b(?:CDLL|WinDLL|LoadLibrary)\s*\("
    ),
    "js": (
        r"(?<![\w.$])(?:eval|Function)\s*\(|\bnew\s+Function\b|\.constructor\s*\.\s*constructor\b"
        r"|\b(?:setTimeout|setInterval|setImmediate|execScript)\s*\(\s*['\"`]"
        r"|\bvm\s*\.\s*(?:runIn\w*Context|Script|compileFunction|SourceTextModule)\b"
        r"|\b[Mm]odule\s*(?:\.\s*prototype\s*)?\.\s*_compile\b|\brequire\s*\.\s*extensions\b"
        r"|\bimport\s*\(\s*['\"`]?\s*(?:data|blob):|data:(?:text|application)/(?:x-)?"
        r"(?:java|ecma|type)script|\bWebAssembly\s*\.\s*(?:instantiate|compile|Module)\w*"
        r"|\bcreateObjectURL\s*\(\s*new\s+Blob\b"
        r"|\b(?:globalThis|global|window|self|top)\s*\[\s*(?:['\"`][^'\"`\]]*['\"`]\s*\+"
        r"|`[^`]*\$\{|[\w.]+\s*\()"
    ),
    "php": (
        r"(?<![\w>$:\\])(?:eval|assert|create_function)\s*\("
        r"|\bpreg_replace\s*\(\s*['\"](.)[^'\"]*\1[a-zA-Z]*e[a-zA-Z]*['\"]"
        r"|\b(?:include|require)(?:_once)?\b[\s(]*['\"](?:data|php|phar|expect|zip)://"
        r"|\bunserialize\s*\("
    ),
    "ruby": (
        r"(?<![\w.:])eval\s*[(\s'\"]|\b(?:Kernel|binding)\s*\.\s*eval\b"
        r"|\b(?:instance|class|module)_eval\b(?!\s*(?:\(\s*&|do\b|\{|&))"
        r"|\bRubyVM::InstructionSequence\b|\bMarshal\s*\.\s*load\b|\bYAML\s*\.\s*unsafe_load"
        # a method named at run time and given arguments: ``send(name, payload)``; a getter
        # (``send(attr)``), a setter (``send("#{attr}=", v)``) or a literal name runs nothing new
        r"|(?<![\w.])(?:send|public_send|__send__)\s*\(\s*(?![:'\"][A-Za-z_]\w*[?!]?['\"]?\s*[,)]"
        r"|\.\.\.|\"[^\"\n]*=\")[^,()\n]+,|\.(?:send|public_send|__send__)\s*\(\s*"
        r"(?![:'\"][A-Za-z_]\w*[?!]?['\"]?\s*[,)]|\.\.\.|\"[^\"\n]*=\")[^,()\n]+,"
        r"|\b(?:send|public_send|__send__)\s*\(?\s*[:'\"](?:instance_|class_|module_)?(?:eval"
        r"|exec|system|spawn|const_get|define_method|load|require)\b"
    ),
    "jvm": (
        r"\bdefineClass\s*\(|\bdefineAnonymousClass\b|\bnew\s+ObjectInputStream\s*\("
        r"|\bGroovy(?:Shell|ClassLoader)\b|\bEval\s*\.\s*me\s*\(|\bnew\s+URLClassLoader\b"
        r"|\bgetSystemJavaCompiler\s*\(|\bScriptEngineManager\b|\bXStream\b[^;\n]*fromXML"
    ),
    "go": r"\bplugin\s*\.\s*Open\s*\(|\byaegi\b",
    "code": (
        r"\bAssembly\s*\.\s*(?:Load|LoadFrom|LoadFile|UnsafeLoadFrom)\s*\("
        r"|\bCSharpScript\s*\.|\bBinaryFormatter\b|\bCodeDomProvider\b"
    ),
}


@cache
def runs_code_branches(kind: str) -> Branches:
    """``RUNS_CODE[kind]`` asked alternative by alternative (``_branches``: the same answer
    as the whole regex, without scanning a large diff once per alternative)."""
    return Branches(RUNS_CODE[kind], re.MULTILINE)


def runs_code(change: FileChange, kinds: frozenset[str]) -> bool:
    """An added call that runs or loads code, near a decoder or not (red-team 05)."""
    if not change.added:
        return False
    text = "\n".join(change.added)
    return any(runs_code_branches(kind).search(text) for kind in kinds & RUNS_CODE.keys())
