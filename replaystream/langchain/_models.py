"""Pydantic models (messages, documents, generation chunks) as plain dicts, fast.

A streamed run converts thousands of ``AIMessageChunk``s whose fields mostly hold their
defaults. Each model class gets one generated function that tests its fields one after the
other (no loop, no tuple unpacking): ``is`` against the default first, then an empty
container by type and length, a full comparison only for other defaults. This is half the
cost of a generic loop, and the normalisation of a stream is mostly this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

__all__ = ["CONVERTERS", "MISSING", "ModelConverter", "model_converter", "same"]

MISSING: Any = object()
#: ``(obj.__dict__, field, meta, doc_id) -> dict``: ``field(key, value, meta)`` converts a
#: kept value; ``doc_id(value)`` labels a ``Document`` id.
ModelConverter = Callable[[dict[str, Any], Callable[[str, Any, bool], Any], bool, Callable[[str], str]], dict[str, Any]]
_EMPTY_TYPES = (list, dict, tuple, str)
#: The converter of each class seen (read it directly: a dict lookup is cheaper than a call).
CONVERTERS: dict[type[BaseModel], ModelConverter] = {}


def same(value: Any, default: Any) -> bool:
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # noqa: BLE001 (an __eq__ that raises, as numpy arrays do: not the default)
        return False


def _defaults(cls: type[BaseModel]) -> list[tuple[str, Any]]:
    """``(field name, default)`` of a pydantic model; ``MISSING`` when the field is required."""
    out: list[tuple[str, Any]] = []
    for name, info in cls.model_fields.items():
        if info.exclude:
            continue
        if info.default_factory is not None:
            try:
                default = info.default_factory()  # type: ignore[call-arg]
            except Exception:  # noqa: BLE001 (factories needing validated data: always show the field)
                default = MISSING
        elif info.is_required():
            default = MISSING
        else:
            default = info.default
        out.append((name, default))
    return out


def model_converter(cls: type[BaseModel], str_kept_below: Callable[[str], int | None]) -> ModelConverter:
    """The converter of ``cls``. ``str_kept_below(key)``: a ``str`` value of that key shorter
    than this is kept as it is without asking ``field`` (``0``: any length; ``None``: always ask)."""
    done = CONVERTERS.get(cls)
    if done is not None:
        return done
    scope: dict[str, Any] = {"M": MISSING, "same": same}
    lines = ["def convert(values, field, meta, doc_id):", "    get = values.get",
             f"    out = {{'_type': {cls.__name__!r}}}"]
    for k, (name, default) in enumerate(_defaults(cls)):
        scope[f"D{k}"] = default
        test = "v is not M"
        if default is None or type(default) is bool:
            test += f" and v is not D{k}"
        elif type(default) in _EMPTY_TYPES and not default:
            test += f" and v is not D{k} and not (type(v) is {type(default).__name__} and not v)"
        elif default is not MISSING:
            test += f" and v is not D{k} and not same(v, D{k})"
        if name == "id" and cls.__name__ == "Document":
            value = "doc_id(v) if type(v) is str else field('id', v, meta)"
        elif (limit := str_kept_below(name)) is not None:
            short = f" and len(v) < {limit}" if limit else ""
            value = f"v if type(v) is str{short} else field({name!r}, v, meta)"
        else:
            value = f"field({name!r}, v, meta)"
        lines += [f"    v = get({name!r}, M)", f"    if {test}:", f"        out[{name!r}] = {value}"]
    lines.append("    return out")
    exec("\n".join(lines), scope)  # noqa: S102 (code built above from field names and repr()s only)
    made: ModelConverter = scope["convert"]
    CONVERTERS[cls] = made
    return made
