"""Built-in rules for code that hides what it runs (THREATS.md G49).

Decoded-then-executed data is unreadable in review, whatever it does, so running it is
identity-related unless the policy excludes the path. Archives and compiled code cannot be
read from a diff at all: the rule fires on their paths and never opens them.
"""

from __future__ import annotations

from ._model import ContentRule, PathRule, View
from ._rules_authn import CODE_CONF

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
