"""Secret redaction: the one place that decides what a secret looks like, for everything perfpack stores.

Agent memory (perfpack.memory) redacts every record before storing it; the ledger (perfpack.ledger), the
baselines, comparisons and history (perfpack.bench.baseline.Identity) and the profile files redact the
command lines, URLs and names they keep. `redact_text` for a string, `redact_argv` for an argv (a value in
the element after `--password`, `-p` or `-u` is redacted too), `redact` for a JSON-like value.

Start-up cost: nothing is imported at the top; `re` is imported and the patterns compiled only when a
cheap substring test finds a trigger word (the memory write runs once per agent action).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

REDACTED = "[REDACTED]"

# Cheap substring test first: the regexes are only compiled and run when one of these appears.
_TRIGGERS = (
    "sk-", "sk_live", "sk_test", "rk_live", "rk_test", "akia", "asia",
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox",
    "hooks.slack", "bearer", "basic", "authorization", "private key", "eyj", "://", "@",
    "pass", "pwd", "secret", "token", "key", "credential", "auth",
    "aiza", "glpat-", "npm_", "hf_", "shpat_", "dop_v1_", "ya29.", "sg.", "mysql",
    "sig=", "signature=", "curl",
)
_SECRET_KEY = (
    r"(?i)^(?:.*[-_])?(?:password|passwd|pwd|pass|secret|token|api[-_]?key|private[-_]?key|"
    r"access[-_]?key|auth|authorization|credentials?)$"
)
# A name (env var, config key) whose segments include one of these words holds a secret: DB_PASS,
# DATABASE_PASSWORD, aws_secret_access_key, AWS_SECRET_ACCESS_KEY, api-key, x.auth_token...
_SECRET_NAME = (
    r"(?:[A-Za-z0-9]+[_.-])*(?:password|passwd|pwd|pass|passphrase|secret|token|api[_-]?key|apikey|"
    r"access[_-]?key|private[_-]?key|credentials?|auth)(?:[_.-][A-Za-z0-9]+)*"
)
# A name glued to one of these words (camelCase or one word): PGPASSWORD, AccountKey, _authToken,
# clientSecret, accessToken. Only the unambiguous words: "pass", "auth" or "key" glued would hit
# harmless names (bypass, author, monkey).
_GLUED_SECRET_NAME = (
    r"[A-Za-z0-9_.-]*?(?:password|passwd|passphrase|secret|token|apikey|accountkey|accesskey|privatekey)"
)
# A URL query parameter named like a secret, by one of its segments: token, access_token, X-Amz-Signature,
# client_secret, api-key, password... (a bare key, sig or auth too; a sort_key or author is no secret)
_QUERY_SECRET = (
    r"(?:[A-Za-z0-9]+[_.-])*(?:token|secret|password|passwd|pwd|passphrase|signature|credentials?|"
    r"api[_-]?key|apikey|access[_-]?key|private[_-]?key|secret[_-]?key|subscription[_-]?key)"
    r"(?:[_.-][A-Za-z0-9]+)*"
)
# Compiled on first use: compiling costs more than a whole memory write needs otherwise.
_patterns: list | None = None


def _compiled() -> list:
    global _patterns
    if _patterns is None:
        import re  # not at the top: most records hold no trigger word, and `import re` costs ~40% of a start

        _patterns = [
            # PEM and PGP private keys, with or without their END line
            (
                re.compile(
                    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
                    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*)",
                    re.DOTALL,
                ),
                REDACTED,
            ),
            (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), REDACTED),
            (re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}"), REDACTED),  # Stripe
            (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), REDACTED),
            (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), REDACTED),
            (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), REDACTED),
            (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), REDACTED),  # Google API key
            (re.compile(r"\bglpat-[0-9A-Za-z_-]{20,}"), REDACTED),  # GitLab
            (re.compile(r"\bnpm_[A-Za-z0-9]{30,}"), REDACTED),
            (re.compile(r"\bhf_[A-Za-z0-9]{30,}"), REDACTED),  # Hugging Face
            (re.compile(r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32,}"), REDACTED),  # Shopify
            (re.compile(r"\bdop_v1_[a-f0-9]{40,}"), REDACTED),  # DigitalOcean
            (re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}"), REDACTED),  # Google OAuth access token
            (re.compile(r"\bSG\.[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}"), REDACTED),  # SendGrid
            # Twilio: an account SID (AC + 32 hex) or API key (SK + 32 hex) with its auth token or secret
            # ("AC...:token", "AC...", "token"), a lone API key, "auth token|secret <32>". A lone account SID
            # is an identifier, kept; the hex must be lowercase, as Twilio writes it (a git SHA has no AC/SK)
            (re.compile(r"\b(?:AC|SK)[0-9a-f]{32}([\"']?\s*[:,]\s*[\"']?)[0-9A-Za-z]{32}\b"),
             REDACTED + r"\1" + REDACTED),
            (re.compile(r"\bSK[0-9a-f]{32}\b"), REDACTED),
            (re.compile(r"(?i)(\b(?:auth[ _-]?token|secret)\s+(?:is\s+|was\s+)?[\"']?)[0-9A-Za-z]{32}\b"),
             r"\1" + REDACTED),
            # command-line secrets: --password=X, --token X, sshpass -p X, mysql -pX
            (re.compile(r"(?i)(--(?:[a-z0-9]+-)*(?:password|passwd|pass|secret|token|api-?key|access-?key)"
                        r"(?:=|\s+)[\"']?)(?!\[REDACTED\])[^\s\"']+"), r"\1" + REDACTED),
            (re.compile(r"(?i)(\bsshpass\s+-p\s*[\"']?)[^\s\"']+"), r"\1" + REDACTED),
            (re.compile(r"(\bmysql\w*\s(?:[^\n;|&]*\s)?-p)(?=[^\s-])[^\s\"']+"), r"\1" + REDACTED),
            (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{8,}"), REDACTED),
            (re.compile(r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]+"),
             r"\1" + REDACTED),
            # a bare JWT: base64url header (always {"... = eyJ), payload and signature
            (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),
            (re.compile(r"(?i)\b(bearer|basic|digest)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
            (re.compile(r"(?i)\b(authorization\s*[:=]\s*)(?!(?:bearer|basic|digest)\s)[^\s\"',;]{8,}"),
             r"\1" + REDACTED),
            # user:password@host in URLs keeps the scheme, user and host, drops the password (which may
            # hold "/" or ":"; an empty user as in redis://:pw@host too)
            # (to the last "@" of the URL: an unencoded "@" in a password is common)
            (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*):[^\s\"'<>]+@"), r"\1:" + REDACTED + "@"),
            # URL query (or fragment) parameters that carry a secret: ?token=, &key=, &api_key=,
            # &access_token=, &password=, &X-Amz-Signature=, #access_token= (OAuth implicit flow), &sig= (SAS)
            (re.compile(r"(?i)([?&#](?:key|sig|auth|" + _QUERY_SECRET + r")=)(?!\[REDACTED\])"
                        r"[^&#\s\"'<>]+"), r"\1" + REDACTED),
            # curl -u user:password, curl --user=user:password (the user stays)
            (re.compile(r"(?i)(\bcurl\b[^\n;|&]*?\s(?:-u\s*|--user[\s=]+)[\"']?[^\s:\"']*:)(?!\[REDACTED\])"
                        r"[^\s\"']+"), r"\1" + REDACTED),
            (
                re.compile(
                    r"(?i)(?<![A-Za-z0-9_.-])(" + _SECRET_NAME + r")(\"?'?\s*[:=]\s*[\"']?)(?!\[REDACTED\])"
                    r"[^\s\"',;&]+"
                ),
                r"\1\2" + REDACTED,
            ),
            (
                re.compile(
                    r"(?i)(?<![A-Za-z0-9_.-])(" + _GLUED_SECRET_NAME + r")(\"?'?\s*[:=]\s*[\"']?)"
                    r"(?!\[REDACTED\])[^\s\"',;&]+"
                ),
                r"\1\2" + REDACTED,
            ),
        ]
    return _patterns


def redact_text(text: str) -> str:
    """`text` with secret-looking values (API keys, tokens, private keys, URL passwords) replaced, and any
    lone surrogate (not encodable as UTF-8, so not storable) replaced by U+FFFD."""
    text = _encodable(text)
    lowered = text.lower()
    if not any(trigger in lowered for trigger in _TRIGGERS) and not _twilio_sid_in(text):
        return text
    for pattern, replacement in _compiled():
        text = pattern.sub(replacement, text)
    return text


_HEX = frozenset("0123456789abcdef")


def _twilio_sid_in(text: str) -> bool:
    """Whether `text` holds AC or SK followed by 32 lowercase hex digits (a Twilio SID), without `re`."""
    for prefix in ("AC", "SK"):
        at = text.find(prefix)
        while at >= 0:
            if _HEX.issuperset(text[at + 2:at + 34]) and len(text) >= at + 34:
                return True
            at = text.find(prefix, at + 2)
    return False


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def redact(value: object) -> object:
    """Redact every string inside a JSON-like value; values under secret-named keys are dropped entirely."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, dict):
        out: dict[object, object] = {}
        for raw_key, item in value.items():
            key = _encodable(raw_key) if isinstance(raw_key, str) else raw_key
            if (
                isinstance(key, str)
                and isinstance(item, (str, int, float))
                and _secret_key(key)
                and item != ""
            ):
                out[key] = REDACTED
            else:
                out[key] = redact(item)
        return out
    return value


def _secret_key(key: str) -> bool:
    lowered = key.lower()
    if not any(word in lowered for word in ("pass", "pwd", "secret", "token", "key", "auth", "credential")):
        return False
    import re

    return re.match(_SECRET_KEY, key) is not None




def redact_argv(argv: Iterable[str]) -> list[str]:
    """An argv with every secret redacted: within an element ("--password=X", "Authorization: Bearer X", a
    URL with user:password@ or ?token=X) and in an element that is the value of the one before it
    ("--password" "X", "sshpass" "-p" "X", "curl" "-u" "user:X", "mysql" ... "-pX"): that element is redacted
    as the command line would be ("user:[REDACTED]"), or becomes [REDACTED] whole.
    The context read is the program (argv[0]) and the three elements before; elements stay elements."""
    args = [str(arg) for arg in argv]
    out = []
    for i, arg in enumerate(args):
        alone = redact_text(arg)
        if i and alone == _encodable(arg):
            context = " ".join(args[max(0, i - 3):i] if i <= 3 else [args[0], *args[i - 3:i]])
            together = redact_text(f"{context} {arg}")
            if not together.endswith(" " + alone):  # the element is the value of the ones before it
                head = redact_text(context) + " "
                tail = together[len(head):] if together.startswith(head) else ""
                alone = tail if tail and " " not in tail and REDACTED in tail else REDACTED
        out.append(alone)
    return out
