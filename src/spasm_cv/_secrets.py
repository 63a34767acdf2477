"""Stream addresses with passwords: kept whole only where the stream is opened.

A camera address such as ``rtsp://admin:s3cret@192.168.1.20/live`` carries a password. It is
held in a :class:`SecretUrl`, whose ``str``, ``repr`` and ``format`` show it redacted
(``rtsp://***@192.168.1.20/live``); only :meth:`SecretUrl.reveal` gives the address itself,
and only the code that opens the stream calls it. Every message that may quote a library's
error text (OpenCV, FFmpeg, SQLite) goes through :func:`scrub`, which removes every secret
this process has seen and the credentials of any URL. A URL is redacted whole: its user name
and password and every query and fragment value (``?loginpas=***#token=***``), keeping the
keys; what spasm-cv stores of an address (the monitor database's ``sessions.source``) is this
redacted form only.

The address may also come from an environment variable (:func:`read_secret_env`) or from a
file only its owner can read (:func:`read_secret_file`), so that it is not visible to other
users in the process list.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from spasm_cv.errors import SpasmCvError

__all__ = [
    "REDACTED",
    "SecretUrl",
    "read_secret_env",
    "read_secret_file",
    "redact_url",
    "scrub",
]

REDACTED = "***"
_MIN_SECRET = 4  # shorter values are removed as part of the whole address only
# a query value alone is removed from any text (scrub) when its key looks like a credential's,
# or when it is long enough to be one; a short ``?res=high`` only within its address, so
# that "high" stays readable in other messages
_CREDENTIAL_KEYS = (
    "pass",
    "pwd",
    "psw",
    "token",
    "key",
    "auth",
    "sig",
    "secret",
    "login",
    "cred",
    "user",
    "usr",
)
_LONG_VALUE = 8

# an address in free text (a library's message): scheme://... up to a space or a quote,
# without the punctuation that ends a sentence
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]*[^\s'\"<>.,:;)\]]")
# a query or fragment item without its address (``?token=...`` quoted alone)
_ITEM_IN_TEXT = re.compile(r"(?P<key>[?&;#][A-Za-z0-9_.\-]+=)[^&;#\s'\"<>]*[^&;#\s'\"<>.,:)\]]")

_known: set[str] = set()
_lock = threading.Lock()


def redact_url(url: str) -> str:
    """``url`` with its user name, password and every query and fragment value replaced by
    ``***`` (the keys are kept: they say what the address asks for, not what it knows).

    Any value may be a credential (``?loginpas=``, ``?auth_token=``, ``#token=``): camera
    makers name them freely, so no list of names could be complete.

    Examples
    --------
    >>> redact_url("rtsp://admin:s3cret@10.0.0.5:554/live?channel=1")
    'rtsp://***@10.0.0.5:554/live?channel=***'
    >>> redact_url("http://cam.local/video.cgi?user=admin&pwd=s3cret#token=abc")
    'http://cam.local/video.cgi?user=***&pwd=***#token=***'
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # not parseable as a URL: redact by pattern
        return _by_pattern(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            parts.path,
            _redact_items(parts.query),
            _redact_items(parts.fragment),
        )
    )


def _redact_items(text: str) -> str:
    """``a=1&b`` -> ``a=***&***``: every value hidden, every key kept (an item without ``=``
    is a value)."""
    out = []
    for item in re.split(r"([&;])", text):
        if item in ("&", ";", ""):
            out.append(item)
            continue
        key, eq, value = item.partition("=")
        out.append(f"{key}={REDACTED if value else ''}" if eq else REDACTED)
    return "".join(out)


def _by_pattern(text: str) -> str:
    text = _URL_IN_TEXT.sub(lambda m: _redact_found(m.group(0)), text)
    return _ITEM_IN_TEXT.sub(lambda m: f"{m['key']}{REDACTED}", text)


def _redact_found(url: str) -> str:
    try:
        return redact_url(url) if urlsplit(url).scheme else url
    except ValueError:
        return re.sub(r"//[^/?#]*@", f"//{REDACTED}@", url)


def _values(text: str) -> list[str]:
    """The values of a query or fragment that may be credentials on their own (``a=1&b`` ->
    ``['1', 'b']``, keeping only those of credential-like keys or of some length)."""
    items = (i.partition("=") for i in re.split(r"[&;]", text) if i)
    pairs = [(k, v) if eq else ("", k) for k, eq, v in items]
    return [
        v
        for k, v in pairs
        if len(v) >= _LONG_VALUE or any(w in k.lower() for w in _CREDENTIAL_KEYS)
    ]


def _secrets_of(url: str) -> set[str]:
    """The substrings of ``url`` that must never be shown."""
    out = set()
    try:
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        values = _values(parts.query) + _values(parts.fragment)
    except ValueError:
        userinfo, values = "", []
    if userinfo or values:
        out.add(url)
    if userinfo:
        out |= {userinfo, unquote(userinfo)}
        password = userinfo.partition(":")[2]
        out |= {p for p in (password, unquote(password)) if len(p) >= _MIN_SECRET}
    out |= {w for v in values for w in (v, unquote(v)) if len(w) >= _MIN_SECRET}
    return {s for s in out if s}


def remember(url: str) -> None:
    """Remember the secrets of ``url`` so that :func:`scrub` removes them from any text."""
    found = _secrets_of(url)
    if found:
        with _lock:
            _known.update(found)


def scrub(text: str) -> str:
    """``text`` without any secret this process has seen and without URL credentials.

    For messages that may quote what a library said (an OpenCV or FFmpeg error can repeat
    the address it was given).
    """
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:  # longest first: the whole URL before its password
        if secret in text:
            text = text.replace(secret, redact_url(secret) if "://" in secret else REDACTED)
    return _by_pattern(text)


class SecretUrl:
    """A stream address whose credentials never show in text.

    ``str()``, ``repr()``, f-strings and ``%`` formatting give the redacted address;
    :meth:`reveal` gives the address itself (for the call that opens the stream, nothing
    else). Creating one remembers its secrets for :func:`scrub`.

    Examples
    --------
    >>> url = SecretUrl("rtsp://admin:s3cret@10.0.0.5/live")
    >>> f"opening {url}"
    'opening rtsp://***@10.0.0.5/live'
    >>> url
    SecretUrl('rtsp://***@10.0.0.5/live')
    """

    __slots__ = ("_url",)

    def __init__(self, url: str):
        self._url = str(url)
        remember(self._url)

    def reveal(self) -> str:
        """The address itself, credentials included: only to open the stream."""
        return self._url

    @property
    def redacted(self) -> str:
        return redact_url(self._url)

    @property
    def has_credentials(self) -> bool:
        """Whether the address holds a user name, a password or a query or fragment value."""
        return self.redacted != self._url

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"SecretUrl({self.redacted!r})"

    def __format__(self, spec: str) -> str:
        return format(self.redacted, spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)

    def __reduce__(self):
        return (SecretUrl, (self._url,))


def read_secret_env(name: str, option: str = "--source-env") -> str:
    """The value of environment variable ``name`` (SpasmCvError if unset or empty)."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise SpasmCvError(f"{option} {name}: the environment variable {name} is not set")
    return value


def read_secret_file(path: str | os.PathLike, option: str = "--source-file") -> str:
    """The one line of a file that only its owner may read or change.

    Blank lines and lines starting with ``#`` are skipped. On POSIX systems a file that
    belongs to another user, or that its group or other users may read or write, is refused
    (as ssh refuses such a private key): its secret may already be known to others.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise SpasmCvError(f"{option}: no such file: {p}") from None
    except OSError as exc:
        raise SpasmCvError(f"{option}: cannot read {p}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise SpasmCvError(f"{option}: not a file: {p}")
    if os.name == "posix":
        if st.st_uid != os.getuid():
            raise SpasmCvError(
                f"{option} {p} belongs to another user: keep the stream address in a file of "
                "your own (chmod 600)"
            )
        if st.st_mode & 0o077:
            raise SpasmCvError(
                f"{option} {p} can be read or changed by other users (mode "
                f"{stat.S_IMODE(st.st_mode):04o}): run `chmod 600 {p}` (and change the "
                "camera's password if others may have read it)"
            )
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpasmCvError(f"{option}: cannot read {p}: {type(exc).__name__}") from None
    lines = [s for s in (line.strip() for line in text.splitlines()) if s and s[0] != "#"]
    if len(lines) != 1:
        raise SpasmCvError(
            f"{option} {p} must hold one line (the stream address); it holds {len(lines)}"
        )
    return lines[0]
