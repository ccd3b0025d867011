"""Options declared as data and checked by one validator (scikit-learn's ``_param_validation``).

Every configurable object of the project states what each option accepts as a table,
``{name: [constraint, ...]}`` (a value passes if any constraint accepts it), and calls
:func:`validate` once at its public boundary. Configuration files (``train --config``, the fit
and scan YAML files) are checked by the same function against nested tables
(:class:`Section`, :class:`ListOf`, :class:`MappingOf`, :class:`OneOf`), so that a whole file
is checked before any work starts and every error names the key path, what was expected and
the value given::

    The 'scan.n_initial' parameter of scan.yaml must be an int in the range [2, inf). Got 0 instead.
    fit.yaml: unknown key 'prior.fixd'; did you mean 'fixed'? allowed: fixed, free

A constraint is one of:

* a type (``str``, ``bool``, ``dict``): an instance of it (``bool`` is not an int here);
* ``None``: the value ``None``;
* :class:`Interval`: an int or a real number in a range;
* :class:`Options`: one of a few values;
* :class:`ListOf`, :class:`MappingOf`, :class:`Section`, :class:`OneOf`: containers, checked
  element by element.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Configurable",
    "Interval",
    "ListOf",
    "MappingOf",
    "OneOf",
    "Options",
    "Section",
    "check_keys",
    "validate",
]


@dataclass(frozen=True)
class Interval:
    """An int (``kind="int"``) or real number (``kind="real"``) in ``[low, high]``.

    ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``; ``None`` bounds are
    infinite (and open: inf itself never passes, nor NaN). Integral floats (``2.0``) pass as
    ints.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is a number of the right kind inside the interval."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        v = float(value)
        if not math.isfinite(v) or (self.kind == "int" and not v.is_integer()):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (v < self.low or (v == self.low and not left)):
            return False
        return not (self.high is not None and (v > self.high or (v == self.high and not right)))

    def __str__(self) -> str:
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        kind = "an int" if self.kind == "int" else "a float"
        return f"{kind} in the range {left}{lo}, {hi}{right}"


@dataclass(frozen=True)
class Options:
    """One of ``values``."""

    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` equals one of :attr:`values` (of the same type)."""
        return any(value == v and type(value) is type(v) for v in self.values)

    def __str__(self) -> str:
        return f"one of {{{', '.join(map(repr, self.values))}}}"


@dataclass(frozen=True)
class ListOf:
    """A list (or tuple) of at least ``min_length`` elements, each accepted by ``item``."""

    item: Any
    min_length: int = 0

    def __str__(self) -> str:
        size = f" of at least {self.min_length}" if self.min_length else ""
        return f"a list{size} of {_describe(self.item)}"


@dataclass(frozen=True)
class MappingOf:
    """A mapping of keys among ``keys`` (any str if None) to values accepted by ``value``."""

    value: Any
    keys: tuple[str, ...] | None = None
    min_length: int = 0

    def __str__(self) -> str:
        return f"a mapping of names to {_describe(self.value)}"


@dataclass(frozen=True)
class Section:
    """A mapping with the keys of ``schema`` (name -> constraint or list of constraints)."""

    schema: Mapping[str, Any]
    required: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"a mapping with keys among {', '.join(sorted(self.schema))}"


@dataclass(frozen=True)
class OneOf:
    """A mapping whose key ``by`` picks its schema: ``{"emcee": {...}, "ultranest": {...}}``.

    ``required`` lists, per choice, the keys it must have.
    """

    by: str
    choices: Mapping[str, Mapping[str, Any]]
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"a mapping with {self.by!r} among {', '.join(map(repr, self.choices))}"


def _as_list(constraints: Any) -> list[Any]:
    return list(constraints) if isinstance(constraints, list) else [constraints]


def _describe(constraints: Any) -> str:
    parts = []
    for c in _as_list(constraints):
        if c is None:
            parts.append("None")
        elif isinstance(c, type):
            parts.append({str: "a str", bool: "a bool", dict: "a mapping"}.get(
                c, f"an instance of {c.__name__!r}"))
        else:
            parts.append(str(c))
    return " or ".join(parts)


def _fail(path: str, where: str, constraints: Any, value: Any) -> None:
    raise ValueError(
        f"The {path!r} parameter of {where} must be {_describe(constraints)}. "
        f"Got {value!r} instead."
    )


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def check_keys(
    given: Any, allowed: Iterable[str], where: str, *, required: Sequence[str] = (),
    path: str = "",
) -> dict[str, Any]:
    """Check that the mapping ``given`` uses only the keys ``allowed`` and has ``required``.

    Parameters
    ----------
    given : mapping
        A configuration section.
    allowed : iterable of str
        Its allowed keys.
    where : str
        The object or file checked, for messages (``"fit.yaml"``).
    required : sequence of str
        Keys that must be present.
    path : str
        Key path of the section inside ``where`` (``"prior"``), for messages.

    Returns
    -------
    dict
        ``given`` as a dict.

    Raises
    ------
    ValueError
        If ``given`` is not a mapping, names an unknown key (with the closest allowed key as a
        suggestion) or lacks a required one.
    """
    if not isinstance(given, Mapping):
        what = f"{where}: {path}" if path else where
        raise ValueError(f"{what} must be a mapping of keys to values; got {given!r}")
    allowed = sorted(allowed)
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"{where}: unknown key {_join(path, key)!r}; {hint}allowed: {', '.join(allowed)}"
            )
    missing = [_join(path, k) for k in required if k not in given]
    if missing:
        raise ValueError(f"{where}: missing key(s) {', '.join(missing)}")
    return dict(given)


def _check(value: Any, constraints: Any, path: str, where: str) -> None:
    """Raise a ``ValueError`` unless one of ``constraints`` accepts ``value``."""
    options = _as_list(constraints)
    containers = [c for c in options if isinstance(c, ListOf | MappingOf | Section | OneOf)]
    for c in options:
        if c is None and value is None:
            return
        if isinstance(c, type) and isinstance(value, c) and not (
                c is not bool and isinstance(value, bool)):
            return
        if isinstance(c, Interval | Options) and c.accepts(value):
            return
    for c in containers:  # the first container of the right shape checks its elements
        if isinstance(c, ListOf) and isinstance(value, list | tuple):
            if len(value) < c.min_length:
                break
            for i, item in enumerate(value):
                _check(item, c.item, f"{path}[{i}]", where)
            return
        if isinstance(c, MappingOf | Section | OneOf) and isinstance(value, Mapping):
            _check_mapping(value, c, path, where)
            return
    _fail(path, where, constraints, value)


def _check_mapping(value: Mapping, c: Any, path: str, where: str) -> None:
    if isinstance(c, MappingOf):
        if c.keys is not None:
            check_keys(value, c.keys, where, path=path)
        if len(value) < c.min_length:
            _fail(path, where, c, value)
        for key, item in value.items():
            _check(item, c.value, _join(path, key), where)
        return
    if isinstance(c, OneOf):
        choice = value.get(c.by)
        if not isinstance(choice, str) or choice not in c.choices:
            _fail(_join(path, c.by), where, Options(tuple(c.choices)), choice)
        c = Section({c.by: str, **c.choices[choice]}, c.required.get(choice, ()))
    check_keys(value, c.schema, where, required=c.required, path=path)
    for key, item in value.items():
        _check(item, c.schema[key], _join(path, key), where)


def validate(
    params: Mapping[str, Any], schema: Mapping[str, Any], where: str, *,
    required: Sequence[str] = (), path: str = "",
) -> dict[str, Any]:
    """Check the options ``params`` against ``schema`` (name -> constraint(s)).

    Parameters
    ----------
    params : mapping
        Option name -> value, e.g. a constructor's arguments or a configuration file's content.
    schema : mapping
        Option name -> a constraint or a list of constraints (see the module docstring).
    where : str
        The object or file, for messages (``"MLPEnsemble"``, ``"fit.yaml"``).
    required : sequence of str
        Keys that must be present.
    path : str
        Key path of ``params`` inside ``where``, for messages.

    Returns
    -------
    dict
        ``params`` as a dict.

    Raises
    ------
    ValueError
        For an unknown key (with a did-you-mean suggestion), a missing one, or a value that no
        constraint accepts: "The 'batch_size' parameter of MLPEnsemble must be an int in the
        range [1, inf). Got 0 instead."
    """
    _check_mapping(params, Section(schema, tuple(required)), path, where)
    return dict(params)


class Configurable:
    """Mix-in of the classes whose constructor options are declared as data.

    A class lists what each option accepts in :attr:`parameter_constraints` and calls
    ``self._check_arguments(locals())`` first thing in ``__init__``; a configuration file
    checks its section for the class with :meth:`check_options` before anything is built.
    """

    #: Option name -> constraint(s); a subclass extends its parent's table.
    parameter_constraints: ClassVar[dict[str, Any]] = {}

    @classmethod
    def check_options(cls, options: Mapping[str, Any], where: str | None = None,
                      path: str = "") -> dict[str, Any]:
        """Check ``options`` (name -> value) against :attr:`parameter_constraints`.

        Raises
        ------
        ValueError
            Naming the option, what it accepts and the value given, or an unknown option
            (with the closest known one).
        """
        return validate(options, cls.parameter_constraints, where or cls.__name__, path=path)

    def _check_arguments(self, arguments: Mapping[str, Any]) -> None:
        """Check a constructor's ``locals()``: those of its arguments that are options."""
        self.check_options({k: v for k, v in arguments.items()
                            if k in self.parameter_constraints})

    def _store_arguments(self, arguments: Mapping[str, Any]) -> None:
        """Store each option among a constructor's (checked) ``locals()`` under its name, as
        the type its constraint declares: ``int`` or ``float`` (:class:`Interval`), a tuple
        (:class:`ListOf`), else as given."""
        for name, value in arguments.items():
            if name in self.parameter_constraints:
                setattr(self, name, _as_declared(value, self.parameter_constraints[name]))


def _as_declared(value: Any, constraints: Any) -> Any:
    """``value`` (accepted by ``constraints``) as the int, float or tuple they declare."""
    if value is None or isinstance(value, bool):
        return value
    for c in _as_list(constraints):
        if isinstance(c, Interval) and c.accepts(value):
            return int(value) if c.kind == "int" else float(value)
        if isinstance(c, ListOf) and isinstance(value, list | tuple):
            return tuple(_as_declared(item, c.item) for item in value)
    return value
