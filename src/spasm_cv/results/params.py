"""Detection parameters without Python: a TOML file and ``name=value`` settings.

``spasm-cv analyze|batch|monitor --params FILE.toml --set name=value`` build a
:class:`~spasm_cv.events.params.DetectionParams` here. The file holds parameters by name at
its top level (or under a ``[detection]`` table); ``--set`` overrides it. Every field of
``DetectionParams`` is accepted by name (read from the dataclass, so new parameters need no
change here); an unknown name, a value that is not a number, or one out of its range is a
one-line :class:`~spasm_cv.errors.SpasmCvError`. The parameters used are recorded in
summary.json (``params``).

Example file::

    # stricter: deeper closure, longer one-sided closure
    closure_on = 0.4
    min_unilateral_s = 0.1
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import fields
from pathlib import Path

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.params import DetectionParams

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def parameter_names() -> list[str]:
    """The names of every detection parameter (the fields of ``DetectionParams``).

    Returns
    -------
    list of str
        In the dataclass's order.

    Examples
    --------
    >>> "closure_on" in parameter_names()
    True
    """
    return [f.name for f in fields(DetectionParams)]


def _unknown(name: str, where: str) -> SpasmCvError:
    close = difflib.get_close_matches(name, parameter_names(), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return SpasmCvError(
        f"unknown detection parameter {name!r}{where}{hint}; known: {', '.join(parameter_names())}"
    )


def read_params_file(path: str | os.PathLike) -> dict:
    """The parameters of a TOML file (top level, or its ``[detection]`` table).

    Parameters
    ----------
    path : str or path
        A TOML file, e.g. ``closure_on = 0.4`` one per line.

    Returns
    -------
    dict
        Parameter name -> value, as written (checked by :func:`build_params`).

    Raises
    ------
    SpasmCvError
        The file is missing or not valid TOML.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("strict.toml").write_text("closure_on = 0.4\\n")
    >>> read_params_file("strict.toml")
    {'closure_on': 0.4}
    """
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpasmCvError(f"parameter file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpasmCvError(f"cannot read parameter file {p}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpasmCvError(f"{p} is not valid TOML: {exc}") from None
    if isinstance(doc.get("detection"), dict):
        rest = [k for k in doc if k != "detection"]
        if rest:
            raise _unknown(rest[0], f" in {p}")
        doc = doc["detection"]
    return dict(doc)


def parse_setting(text: str) -> tuple[str, object]:
    """``name=value`` (the value as a TOML value: ``0.4``, ``true``, ``"text"``) -> pair.

    Parameters
    ----------
    text : str
        One ``--set`` argument.

    Returns
    -------
    tuple
        ``(name, value)``; a value that is not TOML is kept as text (and rejected by
        :func:`build_params` if the parameter is a number).

    Raises
    ------
    SpasmCvError
        No ``=`` or no name.

    Examples
    --------
    >>> parse_setting("closure_on=0.4")
    ('closure_on', 0.4)
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise SpasmCvError(f"--set needs name=value, e.g. closure_on=0.4 (got {text!r})")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return name, parsed


def build_params(
    values: Mapping[str, object] | None = None,
    base: DetectionParams | None = None,
    where: str = "",
) -> DetectionParams:
    """Detection parameters: ``base`` (default the defaults) with ``values`` replaced.

    Parameters
    ----------
    values : mapping, optional
        Parameter name -> value.
    base : DetectionParams, optional
        What the values change (default ``DetectionParams()``).
    where : str
        Where the values came from, for messages (e.g. ``" in strict.toml"``).

    Returns
    -------
    DetectionParams
        Validated by ``DetectionParams`` itself (ranges, types).

    Raises
    ------
    SpasmCvError
        An unknown name, or a value that is not a number or is out of range (one line).

    Examples
    --------
    >>> build_params({"closure_on": 0.4}).closure_on
    0.4
    >>> build_params({"closure_on": 1.5})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spasm_cv.errors.SpasmCvError: bad detection parameter: closure_on must be within [...], got 1.5
    """
    base = base or DetectionParams()
    current = base.to_dict()
    for name, value in (values or {}).items():
        if name not in current:
            raise _unknown(name, where)
        default = getattr(DetectionParams, name, None)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # closure_on = 1 in TOML is an int
        current[name] = value
    try:
        return DetectionParams(**current)
    except (TypeError, ValueError) as exc:
        raise SpasmCvError(f"bad detection parameter{where}: {exc}") from None


def params_from_args(
    params_file: str | os.PathLike | None, settings: Iterable[str] = ()
) -> DetectionParams:
    """The parameters of ``--params FILE`` then ``--set name=value`` (later ones win).

    Parameters
    ----------
    params_file : str or path, optional
        A TOML file of parameters.
    settings : iterable of str
        ``name=value`` strings.

    Returns
    -------
    DetectionParams
        The validated parameters (the defaults when nothing is given).

    Raises
    ------
    SpasmCvError
        A bad file, name or value (one line).

    Examples
    --------
    >>> params_from_args(None, ["closure_on=0.4", "merge_gap_s=1"]).merge_gap_s
    1.0
    """
    params = DetectionParams()
    if params_file is not None:
        params = build_params(read_params_file(params_file), params, f" in {params_file}")
    sets = dict(parse_setting(s) for s in settings)
    if sets:
        params = build_params(sets, params, " in --set")
    return params
