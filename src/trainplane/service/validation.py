"""Request validation and response serialisation driven by botocore's own service models.

botocore checks only required members, types and minimums on the client; maximum lengths, patterns and
enums reach the server, so this module enforces the whole model and reports failures in SageMaker's words:
``2 validation errors detected: Value 'abc_' at 'trainingJobName' failed to satisfy constraint: ...; ...``.

Our choices where AWS's behaviour is unknown: paths are member names with the first letter lower-cased
joined by ``.``, list elements ``<list>.<1-based index>.member``. A scalar map entry breaking its key or
value shape is reported at the map's path as ``Map keys|Map value must satisfy constraint: [...]`` listing
only the violated constraints, with the entry rendered ``{key=value}``; non-scalar map values are walked
at ``<map>.<key>``. JSON ``null`` counts as absent. Unknown members are rejected (AWS ignores them;
rejecting catches typos). Wrong types read ``Member must be a string|an integer|...``; integers must fit
the shape's width. Values render Java-style (``true``, ``[a, b]``, ``{k=v}``) within 128 characters,
sensitive ones as ``***``; enum sets are cut at 250 characters, errors at 400, the message under 1000.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import botocore.session
import regex
from botocore.model import ListShape, MapShape, OperationNotFoundError, ServiceModel, Shape, StructureShape

from trainplane.errors import ValidationError

Errors = list[str]
# walker(value, path, errors) -> normalised value; appends "Value ... at ..." texts to errors.
Walker = Callable[[Any, str, Errors], Any]
# check(value) -> (normalised value, violated constraint texts); for scalar shapes.
Check = Callable[[Any], tuple[Any, Sequence[str]]]
Serializer = Callable[[Any], Any]

_MAX_MESSAGE = 999
_MAX_VALUE = 128
_MAX_ENUM = 250
_MAX_ERROR = 400
_INT_WIDTH = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}

# trainplane extension: wherever SageMaker takes an S3 URI it also takes a local ``file:///abs/path`` URI,
# which the model's pattern ``(https|s3)://...`` would reject. Only shapes listed here get the exception;
# S3Uri is the one URI shape CreateTrainingJob and CreateHyperParameterTuningJob use.
_FILE_URI_SHAPES = frozenset({"S3Uri"})
_FILE_URI = regex.compile(r"file:///.*")

# Some model patterns are Java regexes spelling astral ranges as UTF-16 surrogate pairs; regex wants them
# as code points.
_SURROGATE_PAIR = regex.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", regex.IGNORECASE)


def _astral(match: Any) -> str:
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return "\\U%08X" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _cut(text: str, limit: int, ellipsis: str = "...") -> str:
    return text if len(text) <= limit else text[: limit - len(ellipsis)] + ellipsis


def _java_str(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_str(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_java_str(v) for v in value) + "]"
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _error(value: Any, path: str, constraint: str, sensitive: bool = False) -> str:
    text = "null" if value is None else "'" + _cut("***" if sensitive else _java_str(value), _MAX_VALUE) + "'"
    return f"Value {text} at '{path}' failed to satisfy constraint: {constraint}"


def _summary(errors: Errors) -> str:
    """Join errors AWS-style; whole trailing errors give way to a count rather than exceed the cap."""
    n = len(errors)
    text = f"{n} validation error{'s' if n > 1 else ''} detected: "
    for i, err in enumerate(errors):
        piece = ("; " if i else "") + _cut(err, _MAX_ERROR)  # so the first error always fits
        if len(text) + len(piece) > _MAX_MESSAGE - (20 if i < n - 1 else 0):
            return f"{text}; ... ({n - i} more)"
        text += piece
    return text


def _bounds(shape: Shape, unit: str) -> Callable[[Any], Sequence[str]]:
    """Min/max check of a measure (length or value); texts prebuilt so the hot path only compares."""
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    lo_text = (f"Member must have {unit} greater than or equal to {lo}",)
    hi_text = (f"Member must have {unit} less than or equal to {hi}",)
    return lambda n: hi_text if hi is not None and n > hi else lo_text if lo is not None and n < lo else ()


def _pattern(shape: Shape) -> tuple[Callable[[str], Any] | None, str]:
    printed = shape.metadata.get("pattern")
    if not printed:
        return None, ""
    body = printed[1:] if printed.startswith("^") else printed
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    try:
        compiled = regex.compile(_SURROGATE_PAIR.sub(_astral, body))
    except regex.error:  # a Java-only construct: better to skip one pattern than to refuse every request
        return None, ""
    text = "Member must satisfy regular expression pattern: " + ("" if printed[0] == "^" else "^") + printed
    if shape.name in _FILE_URI_SHAPES:
        return (lambda v: compiled.fullmatch(v) or _FILE_URI.fullmatch(v)), text
    return compiled.fullmatch, text


def _string_check(shape: Shape) -> Check:
    length = _bounds(shape, "length")
    enum = frozenset(shape.enum) if getattr(shape, "enum", None) else None
    enum_text = _cut(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]", _MAX_ENUM, ", ...]")
    matcher, pattern_text = _pattern(shape)

    def check(value: Any) -> tuple[Any, Sequence[str]]:
        if not isinstance(value, str):
            return value, ("Member must be a string",)
        bad = length(len(value))
        if enum is not None and value not in enum:
            bad = (enum_text, *bad)
        if matcher is not None and not matcher(value):
            bad = (pattern_text, *bad)
        return value, bad

    return check


def _number_check(shape: Shape) -> Check:
    size = _bounds(shape, "value")
    width = _INT_WIDTH.get(shape.type_name)
    wrong = ("Member must be an integer" if width else "Member must be a number",)
    overflow = (f"Member must be an integer between {width[0]} and {width[1]}",) if width else ()

    def check(value: Any) -> tuple[Any, Sequence[str]]:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value, wrong
        if width is not None:
            if isinstance(value, float):  # JSON clients may send 3.0 for 3
                if not value.is_integer():
                    return value, wrong
                value = int(value)
            if not width[0] <= value <= width[1]:
                return value, overflow
        return value, size(value)

    return check


def _timestamp_check(value: Any) -> tuple[Any, Sequence[str]]:
    """Epoch seconds (number or numeric string), ISO-8601 text or a datetime; naive means UTC."""
    moment = value
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC), ()
        if isinstance(value, str):
            try:
                return datetime.fromtimestamp(float(value), tz=UTC), ()
            except ValueError:
                moment = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        pass
    if not isinstance(moment, datetime):
        return value, ("Member must be a timestamp (epoch seconds or ISO-8601)",)
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)), ()


def _boolean_check(value: Any) -> tuple[Any, Sequence[str]]:
    return value, (() if isinstance(value, bool) else ("Member must be a boolean",))


def _any_check(value: Any) -> tuple[Any, Sequence[str]]:
    return value, ()


def _scalar_check(shape: Shape) -> Check | None:
    kind = shape.type_name
    if kind == "string":
        return _string_check(shape)
    if kind in ("integer", "long", "float", "double"):
        return _number_check(shape)
    if kind in ("structure", "list", "map"):
        return None
    # blob/document shapes are not used by the operations we serve: accept them as given.
    return {"boolean": _boolean_check, "timestamp": _timestamp_check}.get(kind, _any_check)


def _scalar_walker(check: Check, sensitive: bool) -> Walker:
    def walk(value: Any, path: str, errors: Errors) -> Any:
        out, bad = check(value)
        if bad:
            errors.extend(_error(value, path, text, sensitive) for text in bad)
        return out

    return walk


def _list_walker(shape: ListShape, item_walker: Walker) -> Walker:
    size = _bounds(shape, "length")

    def walk(value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, list | tuple):
            errors.append(_error(value, path, "Member must be a list"))
            return value
        errors.extend(_error(value, path, text) for text in size(len(value)))
        out = []
        for i, item in enumerate(value, 1):
            where = f"{path}.{i}.member"
            if item is None:
                errors.append(_error(None, where, "Member must not be null"))
            out.append(item if item is None else item_walker(item, where, errors))
        return out

    return walk


def _must(bad: Sequence[str]) -> str:
    return f"must satisfy constraint: [{', '.join(bad)}]"


def _map_walker(shape: MapShape, key_check: Check, value_check: Check | None, value_walker: Walker) -> Walker:
    size = _bounds(shape, "length")

    def walk(value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, dict):
            errors.append(_error(value, path, "Member must be a map"))
            return value
        errors.extend(_error(value, path, text) for text in size(len(value)))
        out = {}
        for key, item in value.items():
            _, bad = key_check(key)
            if bad:
                errors.append(_error({key: item}, path, f"Map keys {_must(bad)}"))
            if item is None:
                bad = ("Member must not be null",)
            elif value_check is None:
                out[key] = value_walker(item, f"{path}.{key}", errors)
                continue
            else:
                out[key], bad = value_check(item)
            if bad:
                errors.append(_error({key: item}, path, f"Map value {_must(bad)}"))
        return out

    return walk


class _Compiler:
    """Builds and caches one walker and one serialiser per shape of one service model. Building is locked
    and an operation's entry point is published only once its shape graph is built, so the placeholders
    left for recursive shapes are resolved before any request runs."""

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.operations = frozenset(model.operation_names)
        self._lock = threading.RLock()
        self._walkers: dict[str, Walker] = {}
        self._serializers: dict[str, Serializer | None] = {}
        self._entries: dict[tuple[str, bool], Any] = {}

    def entry(self, operation: str, output: bool = False) -> Any:
        """The walker (input) or serialiser (output) of an operation; unknown operations are rejected."""
        key = (operation, output)
        if key not in self._entries:
            try:
                model = self.model.operation_model(operation)
            except OperationNotFoundError:
                raise ValidationError(f"Operation {operation} is not supported by this service") from None
            with self._lock:
                if output:
                    shape = model.output_shape
                    self._entries[key] = self._serializer(shape) if shape else lambda v: {}
                else:
                    self._entries[key] = self._walker(model.input_shape)
        return self._entries[key]

    def _walker(self, shape: Shape) -> Walker:
        name = shape.name
        if name not in self._walkers:
            self._walkers[name] = lambda v, p, e: self._walkers[name](v, p, e)  # placeholder for recursion
            self._walkers[name] = self._build_walker(shape)
        return self._walkers[name]

    def _build_walker(self, shape: Shape) -> Walker:
        check = _scalar_check(shape)
        if check is not None:
            return _scalar_walker(check, bool(shape.metadata.get("sensitive")))
        if isinstance(shape, StructureShape):
            return self._structure_walker(shape)
        if isinstance(shape, ListShape):
            return _list_walker(shape, self._walker(shape.member))
        if isinstance(shape, MapShape):
            key_check = _scalar_check(shape.key) or _any_check
            return _map_walker(shape, key_check, _scalar_check(shape.value), self._walker(shape.value))
        raise TypeError(f"unsupported shape {shape.name} of type {shape.type_name}")

    def _structure_walker(self, shape: StructureShape) -> Walker:
        members = {name: (_camel(name), self._walker(ref)) for name, ref in shape.members.items()}
        required = [(name, _camel(name)) for name in shape.required_members]
        union, shape_name = bool(shape.is_tagged_union), shape.name

        def walk(value: Any, path: str, errors: Errors) -> Any:
            if not isinstance(value, dict):
                errors.append(_error(value, path, "Member must be a structure"))
                return value
            prefix = path + "." if path else ""
            out = {}
            for key, item in value.items():
                member = members.get(key)
                if member is None:
                    text = f"Unknown parameter '{key}'; {shape_name} has no such member"
                    errors.append(_error(item, prefix + _camel(str(key)), text))
                elif item is not None:
                    out[key] = member[1](item, prefix + member[0], errors)
            for name, camel in required:
                if value.get(name) is None:
                    errors.append(_error(None, prefix + camel, "Member must not be null"))
            if union and len(out) != 1:
                errors.append(_error(value, path, "Member must have exactly one field set"))
            return out

        return walk

    def _serializer(self, shape: Shape) -> Serializer | None:
        """None means "copy unchanged", which lets the walk skip a call per scalar."""
        name = shape.name
        if name not in self._serializers:
            self._serializers[name] = lambda v: self._serializers[name](v)  # type: ignore[misc]  # recursion
            self._serializers[name] = self._build_serializer(shape)
        return self._serializers[name]

    def _build_serializer(self, shape: Shape) -> Serializer | None:
        if isinstance(shape, StructureShape):
            members = {name: self._serializer(ref) for name, ref in shape.members.items()}
            return lambda v: {
                k: x if s is None else s(x) for k, s in members.items() if (x := v.get(k)) is not None
            }
        if isinstance(shape, ListShape):
            item = self._serializer(shape.member)
            return None if item is None else (lambda v: [item(x) for x in v])
        if isinstance(shape, MapShape):
            val = self._serializer(shape.value)
            return None if val is None else (lambda v: {k: val(x) for k, x in v.items()})
        return {"timestamp": _epoch, "string": _plain_string}.get(shape.type_name)


def _epoch(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).timestamp()
    return value


def _plain_string(value: Any) -> Any:
    # Services hand over state enums; the wire wants their string value.
    return value.value if isinstance(value, Enum) else value


@functools.cache
def _compiler(service: str) -> _Compiler:
    return _Compiler(botocore.session.get_session().get_service_model(service))


def known_operations(service: str = "sagemaker") -> frozenset[str]:
    """Names of every operation the service model defines (``CreateTrainingJob``, ...)."""
    return _compiler(service).operations


def validate_input(operation: str, params: dict[str, Any], *, service: str = "sagemaker") -> dict[str, Any]:
    """Check ``params`` against the operation's input shape and return a normalised copy.

    Timestamps become aware UTC ``datetime``; integral floats for integer shapes become ``int``; JSON nulls
    are dropped. Raises one :class:`ValidationError` listing every violation (or naming an unknown operation).
    """
    walker = _compiler(service).entry(operation)
    if not isinstance(params, dict):
        raise ValidationError("1 validation error detected: The request body must be a JSON object")
    errors: Errors = []
    try:
        result: dict[str, Any] = walker(params, "", errors)
    except RecursionError:
        # Recursive shapes (search expressions) let a hostile request nest without bound.
        raise ValidationError("1 validation error detected: The request is nested too deeply") from None
    if errors:
        raise ValidationError(_summary(errors))
    return result


def serialize_output(operation: str, result: dict[str, Any], service: str = "sagemaker") -> dict[str, Any]:
    """Shape ``result`` for the wire: modelled members only, no ``None``, timestamps as epoch seconds."""
    serializer = _compiler(service).entry(operation, output=True)
    out: dict[str, Any] = dict(result) if serializer is None else serializer(result)
    return out
