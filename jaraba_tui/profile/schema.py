"""A small strict validator for the profile's tables: typed, declarative, no third party.

A table is a :class:`Model` subclass whose fields are declared with :func:`field` and a
*check* (a function ``(value, loc, errors) -> value``)::

    class RedisInstance(Model):
        name: str = field(NAME)
        port: int = field(PORT, default=6379)
        password: Secret | None = field(optional(SECRET), default=None)

Validation (:meth:`Model.validate`) is strict, as the profile always was (it used pydantic's
strict mode, whose error texts the checks reproduce): unknown keys are errors, nothing is
coerced (``"3306"`` is not a port, ``true`` is not a number) except a whole number where a
number of seconds or a fraction is expected. Every problem found is collected as a
:data:`Problem` ``(loc, kind, message, fix)``, in the order: a table's fields as declared,
then its unknown keys as written; a table's own rule (:meth:`Model.check`) runs only when
its fields are all valid. Instances are frozen, compare and hash by value, pickle, and
:meth:`Model.dump` serialises them (secrets as their reference, never a value).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Final, TypeVar, dataclass_transform

from jaraba_tui.secrets import InvalidValue, Secret

__all__ = [
    "INVALID",
    "Check",
    "FrozenModelError",
    "Loc",
    "Model",
    "Problem",
    "boolean",
    "dict_of",
    "field",
    "integer",
    "list_of",
    "model",
    "number",
    "optional",
    "scalar",
    "string",
]

#: Where a value is: ``("galera", "nodes", 2, "port")``; a table name ends with ``"[key]"``.
Loc = tuple[str | int, ...]
#: One problem: (loc, kind, message, fix); an empty fix means "the kind's usual fix".
Problem = tuple[Loc, str, str, str]


class _Invalid:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


#: What a check returns when it recorded a problem.
INVALID: Final = _Invalid()

#: A check: the validated value, or :data:`INVALID` after appending its problems.
Check = Callable[[object, Loc, list[Problem]], Any]


class FrozenModelError(AttributeError):
    """Assigning to (or deleting) a field of a validated profile table."""


# -- scalar checks -----------------------------------------------------------------------------
def scalar(validate: Callable[[object], object]) -> Check:
    """A check from a function that returns the value or raises :class:`InvalidValue`."""

    def check(value: object, loc: Loc, errors: list[Problem]) -> object:
        try:
            return validate(value)
        except InvalidValue as exc:
            errors.append((loc, exc.kind, exc.problem, exc.fix))
        except ValueError as exc:  # e.g. urlsplit's "Invalid IPv6 URL"
            errors.append((loc, "value_error", f"Value error, {exc}", ""))
        except AssertionError as exc:
            errors.append((loc, "assertion_error", f"Assertion failed, {exc}", ""))
        return INVALID

    return check


def _bounds(
    value: float,
    loc: Loc,
    errors: list[Problem],
    gt: float | None,
    ge: float | None,
    le: float | None,
) -> bool:
    # The order pydantic checks them in (it matters for NaN): le, then ge, then gt.
    if le is not None and not value <= le:
        errors.append((loc, "less_than_equal", f"Input should be less than or equal to {le}", ""))
    elif ge is not None and not value >= ge:
        errors.append(
            (loc, "greater_than_equal", f"Input should be greater than or equal to {ge}", "")
        )
    elif gt is not None and not value > gt:
        errors.append((loc, "greater_than", f"Input should be greater than {gt}", ""))
    else:
        return True
    return False


def integer(*, ge: int | None = None, le: int | None = None) -> Check:
    """A whole number (not a bool, not a float, not a string), within ``[ge, le]``."""

    def check(value: object, loc: Loc, errors: list[Problem]) -> object:
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append((loc, "int_type", "Input should be a valid integer", ""))
            return INVALID
        return value if _bounds(value, loc, errors, None, ge, le) else INVALID

    return check


def number(*, gt: int | None = None, ge: int | None = None, le: int | None = None) -> Check:
    """A float, or a whole number (made a float); never a bool or a string."""

    def check(value: object, loc: Loc, errors: list[Problem]) -> object:
        if isinstance(value, float):
            result = value
        elif isinstance(value, int) and not isinstance(value, bool):
            try:
                result = float(value)
            except OverflowError:
                errors.append((loc, "float_type", "Input should be a valid number", ""))
                return INVALID
        else:
            errors.append((loc, "float_type", "Input should be a valid number", ""))
            return INVALID
        return result if _bounds(result, loc, errors, gt, ge, le) else INVALID

    return check


def _boolean(value: object, loc: Loc, errors: list[Problem]) -> object:
    if isinstance(value, bool):
        return value
    errors.append((loc, "bool_type", "Input should be a valid boolean", ""))
    return INVALID


def boolean() -> Check:
    """``true`` or ``false`` (not 0/1, not a string)."""
    return _boolean


def string(*, pattern: str | None = None) -> Check:
    """A string; when ``pattern`` is given (written ``^...$``), the whole string matches it
    (``$`` does not match before a final newline, as in pydantic's Rust regexes)."""
    compiled = re.compile(pattern) if pattern is not None else None

    def check(value: object, loc: Loc, errors: list[Problem]) -> object:
        if not isinstance(value, str):
            errors.append((loc, "string_type", "Input should be a valid string", ""))
            return INVALID
        if compiled is not None and compiled.fullmatch(value) is None:
            errors.append(
                (loc, "string_pattern_mismatch", f"String should match pattern '{pattern}'", "")
            )
            return INVALID
        return value

    return check


# -- containers --------------------------------------------------------------------------------
def optional(inner: Check) -> Check:
    """``None`` (a key absent from TOML, or a None given in a mapping), else ``inner``."""

    def check(value: object, loc: Loc, errors: list[Problem]) -> object:
        return None if value is None else inner(value, loc, errors)

    return check


def list_of(item: Check, *, min_length: int = 0) -> Check:
    """A list (an array in TOML) of ``item``, with at least ``min_length`` entries."""

    def check(value: object, loc: Loc, errors: list[Problem]) -> object:
        if not isinstance(value, list):
            errors.append((loc, "list_type", "Input should be a valid list", ""))
            return INVALID
        out: list[object] = []
        ok = True
        for i, entry in enumerate(value):
            result = item(entry, (*loc, i), errors)
            if result is INVALID:
                ok = False
            else:
                out.append(result)
        if not ok:
            return INVALID
        if len(out) < min_length:
            plural = "" if min_length == 1 else "s"
            errors.append(
                (
                    loc,
                    "too_short",
                    f"List should have at least {min_length} item{plural} after validation, "
                    f"not {len(out)}",
                    "",
                )
            )
            return INVALID
        return out

    return check


def dict_of(key: Check, item: Check) -> Check:
    """A table of ``key`` (a table name) -> ``item``; each key is checked before its value."""

    def check(value: object, loc: Loc, errors: list[Problem]) -> object:
        if not isinstance(value, dict):
            errors.append((loc, "dict_type", "Input should be a valid dictionary", ""))
            return INVALID
        out: dict[object, object] = {}
        ok = True
        for name, entry in value.items():
            checked_name = key(name, (*loc, name, "[key]"), errors)
            checked = item(entry, (*loc, name), errors)
            if checked_name is INVALID or checked is INVALID:
                ok = False
            else:
                out[checked_name] = checked
        return out if ok else INVALID

    return check


M = TypeVar("M", bound="Model")


def model(cls: type[Model]) -> Check:
    """A table validated as ``cls`` (an instance of ``cls`` is taken as it is)."""

    def check(value: object, loc: Loc, errors: list[Problem]) -> object:
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            errors.append(
                (
                    loc,
                    "model_type",
                    f"Input should be a valid dictionary or instance of {cls.__name__}",
                    "",
                )
            )
            return INVALID
        return cls.validate(value, loc, errors)

    return check


# -- models ------------------------------------------------------------------------------------
_MISSING: Final = object()


class Spec:
    """One declared field: its check and its default (or none: the key is required)."""

    __slots__ = ("check", "default", "factory", "name")

    def __init__(self, check: Check, default: object, factory: Callable[[], object] | None) -> None:
        self.name = ""
        self.check = check
        self.default = default
        self.factory = factory

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.factory is None

    def make_default(self) -> object:
        return self.factory() if self.factory is not None else self.default


def field(
    check: Check,
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """Declare a field of a :class:`Model`: how its value is checked, and its default (a
    value, or ``default_factory`` for a fresh list/dict/table); with neither it is required."""
    return Spec(check, default, default_factory)


def _extra_fix(name: object, allowed: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(str(name), allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}remove it or fix its spelling; allowed here: {', '.join(allowed)}"


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class Model:
    """A frozen, validated table. Subclasses declare their fields with :func:`field`."""

    _specs: ClassVar[tuple[Spec, ...]] = ()
    _names: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = {spec.name: spec for spec in cls._specs}
        for name, spec in list(vars(cls).items()):  # in the order written
            if isinstance(spec, Spec):
                spec.name = name
                specs[name] = spec
                delattr(cls, name)  # an instance always holds every field
        cls._specs = tuple(specs.values())
        cls._names = frozenset(specs)

    def __init__(self, **values: Any) -> None:
        """Build from already valid values (no validation: see :meth:`validate`)."""
        self._refuse_unknown(values)
        state = self.__dict__
        for spec in self._specs:
            if spec.name in values:
                state[spec.name] = values[spec.name]
            elif spec.required:
                raise TypeError(f"{type(self).__name__}: missing field {spec.name!r}")
            else:
                state[spec.name] = spec.make_default()

    @classmethod
    def _refuse_unknown(cls, values: dict[str, Any]) -> None:
        """TypeError naming what in ``values`` is not a field (building in code, not TOML)."""
        unknown = set(values) - cls._names
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}")

    # -- validation ------------------------------------------------------------------------------
    @classmethod
    def validate(cls: type[M], data: dict[Any, Any], loc: Loc, errors: list[Problem]) -> M | Any:
        """``data`` checked as this table: an instance, or :data:`INVALID` after appending
        every problem found to ``errors``."""
        before = len(errors)
        state: dict[str, object] = {}
        for spec in cls._specs:
            name = spec.name
            if name in data:
                state[name] = spec.check(data[name], (*loc, name), errors)
            elif spec.required:
                errors.append(((*loc, name), "missing", "Field required", ""))
            else:
                state[name] = spec.make_default()
        names = cls._names
        for name in data:
            if not isinstance(name, str):  # not from TOML: a mapping built in Python
                errors.append(((*loc, name), "invalid_key", "Keys should be strings", ""))
            elif name not in names:
                fix = _extra_fix(name, sorted(names))
                errors.append(
                    ((*loc, name), "extra_forbidden", "Extra inputs are not permitted", fix)
                )
        if len(errors) > before:
            return INVALID
        obj = cls.__new__(cls)
        obj.__dict__.update(state)
        try:
            obj.check()
        except InvalidValue as exc:
            errors.append((loc, exc.kind, exc.problem, exc.fix))
            return INVALID
        return obj

    def check(self) -> None:
        """The table's own rule, once its fields are valid: raise :class:`InvalidValue`."""

    # -- the frozen value ------------------------------------------------------------------------
    @classmethod
    def field_names(cls) -> list[str]:
        """The keys this table takes, as declared."""
        return [spec.name for spec in cls._specs]

    def field_items(self) -> Iterator[tuple[str, Any]]:
        """(key, value) of every field, as declared."""
        state = self.__dict__
        for spec in self._specs:
            yield spec.name, state[spec.name]

    def replace(self: M, **changes: Any) -> M:
        """A copy with ``changes`` applied (not validated again: give valid values); what is
        not a field (a profile's ``source``) is copied too."""
        self._refuse_unknown(changes)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    def dump(self) -> dict[str, Any]:
        """The fields as plain data (JSON-ready): a secret as its reference
        (``"env:REDIS_PASSWORD"``), never its value."""
        return {name: _dump(value) for name, value in self.field_items()}

    def as_json(self) -> str:
        """:meth:`dump` as compact JSON."""
        import json

        return json.dumps(self.dump(), separators=(",", ":"))

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenModelError(f"{type(self).__name__} is frozen: cannot assign {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenModelError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *(value for _, value in self.field_items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.field_items())
        return f"{type(self).__name__}({args})"

    def __str__(self) -> str:
        return " ".join(f"{name}={value!r}" for name, value in self.field_items())


def _dump(value: object) -> Any:
    if isinstance(value, Model):
        return value.dump()
    if isinstance(value, Secret):
        return value.source
    if isinstance(value, list):
        return [_dump(item) for item in value]
    if isinstance(value, dict):
        return {key: _dump(item) for key, item in value.items()}
    return value
