"""HTML pages spasm-cv writes: every value escaped by default, one Content-Security-Policy.

A recording's name, an event's ``kind`` or ``regions``, a treatment's label: whatever a page
shows may come from a file or a database someone else wrote, so it may hold markup
(``<form action=...>``). Escaping is therefore the default, not a habit:

- pages are Jinja2 templates rendered with autoescape (:func:`render`): a value is escaped
  unless it is :class:`~markupsafe.Markup`;
- fragments built in Python (table rows, cards) are made with :func:`html`, which formats
  like :meth:`str.format` but escapes every argument that is not itself Markup, and joined
  with :func:`join`, which escapes every part that is not Markup. A plain ``str`` that
  reaches a page is thus shown as text, never run as markup.

:func:`csp` gives every page the same base policy: nothing loads, no form may submit and no
``<base>`` may redirect links (``form-action`` and ``base-uri`` do not fall back to
``default-src``); scripts are allowed by hash only (:func:`script_hash`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

__all__ = ["CSP_BASE", "Markup", "csp", "escape", "html", "join", "render", "script_hash"]

CSP_BASE = ("default-src 'none'", "base-uri 'none'", "form-action 'none'")


def csp(*directives: str) -> Markup:
    """A Content-Security-Policy: :data:`CSP_BASE` and ``directives`` (what a page needs).

    Markup (written here, with no ``"``), so that a template puts it in its ``<meta>`` as is.

    Examples
    --------
    >>> str(csp("img-src data:"))
    "default-src 'none'; base-uri 'none'; form-action 'none'; img-src data:"
    """
    policy = "; ".join((*CSP_BASE, *directives))
    if '"' in policy:
        raise ValueError(f"a CSP directive holds a double quote: {policy}")
    return Markup(policy)


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script (``'sha256-...'``)."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def html(fragment: str, /, *args: object, **kwargs: object) -> Markup:
    """``fragment`` (markup written here) formatted with ``args``, each escaped unless Markup.

    Format specs work as in :meth:`str.format` (``html("<td>{:.2f}</td>", x)``).

    Examples
    --------
    >>> html("<td>{}</td><td>{:.1f}</td>", "<b>", 2.25)
    Markup('<td>&lt;b&gt;</td><td>2.2</td>')
    """
    return Markup(fragment).format(*args, **kwargs)


def join(parts: Iterable[object], sep: str = "") -> Markup:
    """``parts`` joined by ``sep`` (markup written here); each part escaped unless Markup."""
    return Markup(sep).join(parts)


@functools.cache
def _environment(folder: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(template: Path, **values: object) -> str:
    """The Jinja2 template file ``template`` rendered with ``values`` (autoescaped)."""
    return _environment(str(template.parent)).get_template(template.name).render(**values)
