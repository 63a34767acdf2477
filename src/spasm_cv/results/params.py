"""Detection parameters by flat name: a TOML file, ``name=value`` settings, summary.json.

``spasm-cv analyze|batch|monitor --params FILE.toml --set name=value`` build a
:class:`~spasm_cv.events.params.DetectionParams` here. The file holds parameters by flat name
at its top level (or under a ``[detection]`` table); ``--set`` overrides it. Every parameter
of ``DetectionParams`` is accepted by its flat name (``DetectionParams.flat_fields()``, so new
parameters need no change here); an unknown name, a value that is not a number, or one out
of its range is a one-line :class:`~spasm_cv.errors.SpasmCvError`. The parameters used are
recorded in summary.json (``params``), read back as :class:`RecordedParams`.

Example file::

    # stricter: deeper closure, longer one-sided closure
    closure_on = 0.4
    min_unilateral_s = 0.1
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.params import DetectionParams

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def parameter_names() -> list[str]:
    """The flat names of every detection parameter (``DetectionParams.flat_fields()``).

    Returns
    -------
    list of str
        In summary.json's order.

    Examples
    --------
    >>> "closure_on" in parameter_names()
    True
    """
    return list(DetectionParams.flat_fields())


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
    >>> build_params({"closure_on": 0.4}).episodes.closure_on
    0.4
    >>> build_params({"closure_on": 1.5})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spasm_cv.errors.SpasmCvError: bad detection parameter: closure_on must be within [...], got 1.5
    """
    base = base or DetectionParams()
    defaults = DetectionParams().to_dict()
    changed = {}
    for name, value in (values or {}).items():
        if name not in defaults:
            raise _unknown(name, where)
        default = defaults[name]
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # closure_on = 1 in TOML is an int
        changed[name] = value
    try:
        return base.with_values(**changed)
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
    >>> params_from_args(None, ["closure_on=0.4", "merge_gap_s=1"]).to_dict()["merge_gap_s"]
    1.0
    """
    params = DetectionParams()
    if params_file is not None:
        params = build_params(read_params_file(params_file), params, f" in {params_file}")
    sets = dict(parse_setting(s) for s in settings)
    if sets:
        params = build_params(sets, params, " in --set")
    return params


class RecordedParams(Mapping[str, float]):
    """Detection parameters as a summary.json records them (``params``): flat name -> value,
    in the order written.

    A summary.json of another version may lack parameters added since (:attr:`missing`) or
    hold some this version does not know (:attr:`unknown`, from a newer one): both pass
    through unchanged, so :meth:`to_dict` writes back exactly what was read.
    :meth:`detection_params` gives them typed (missing ones at their defaults).

    Parameters
    ----------
    values : mapping of str to float, optional
        Flat name -> value (checked by summary.json's schema where read from a file).

    Examples
    --------
    >>> recorded = RecordedParams.of(DetectionParams().with_values(closure_on=0.4))
    >>> recorded["closure_on"], recorded.text("closure_on"), recorded.text("new_one")
    (0.4, '0.4', '?')
    >>> RecordedParams({"closure_on": 0.4, "new_one": 2.0}).unknown
    {'new_one': 2.0}
    >>> RecordedParams({"closure_on": 0.4}).detection_params() == recorded.detection_params()
    True
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, float] | None = None) -> None:
        self._values: dict[str, float] = dict(values or {})

    @classmethod
    def of(cls, params: DetectionParams) -> RecordedParams:
        """What summary.json records of ``params``: every parameter, in its order."""
        return cls(params.to_dict())

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"RecordedParams({self._values!r})"

    @property
    def unknown(self) -> dict[str, float]:
        """The parameters this version does not know (written by a newer one)."""
        known = DetectionParams.flat_fields()
        return {k: v for k, v in self._values.items() if k not in known}

    @property
    def missing(self) -> list[str]:
        """The parameters of this version not recorded (written by an older one)."""
        return [k for k in DetectionParams.flat_fields() if k not in self._values]

    def detection_params(self) -> DetectionParams:
        """The recorded parameters this version knows, typed; missing ones at their defaults
        (ValueError for a value out of its range)."""
        known = DetectionParams.flat_fields()
        return DetectionParams.from_dict({k: v for k, v in self._values.items() if k in known})

    def text(self, name: str) -> str:
        """A parameter's value as text (``?`` if not recorded)."""
        value = self._values.get(name)
        return "?" if value is None else f"{value:g}"

    def texts(self) -> dict[str, str]:
        """Every parameter as text: those recorded, then those of this version not recorded
        (``?``)."""
        return {k: self.text(k) for k in {**self._values, **DetectionParams.flat_fields()}}

    def to_dict(self) -> dict[str, float]:
        """summary.json's ``params``, as recorded."""
        return dict(self._values)
