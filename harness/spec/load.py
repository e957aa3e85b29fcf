"""Build a ClusterSpec from YAML (a file or text), a dict or keyword arguments, and dump it back.

Every problem in the input comes back as ONE ``UsageError`` listing each as
``field.path: problem (allowed: ...)``, so a user fixes a spec file in one pass.
"""

from __future__ import annotations

import codecs
import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from harness.errors import UsageError
from harness.spec.model import ClusterSpec, Networking

SOURCE_TEXT = "<spec text>"
SOURCE_KWARGS = "<keyword arguments>"
REFERENCE = "examples/specs/default.yaml"
Loc = tuple[int | str, ...]


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML would silently keep the last one)."""


def _mapping_without_duplicates(loader: _SpecLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool):
            continue  # unhashable keys are left for validation to reject
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_SpecLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


class _SpecDumper(yaml.SafeDumper):
    """SafeDumper writing multi-line strings (kubeadm patches) as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_SpecDumper.add_representer(str, _represent_str)


def _fix(source: str | None) -> str:
    if source == SOURCE_KWARGS:
        return f"correct the keyword arguments (the same fields as a spec file; see {REFERENCE})"
    if source is None or source.startswith("<"):
        return f"correct the cluster spec (every field is documented in {REFERENCE})"
    return f"correct the spec file {source} (every field is documented in {REFERENCE})"


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        doc = yaml.load(text, Loader=_SpecLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UsageError(f"{source}: invalid YAML{where}: {e.problem or e.context}", fix=_fix(source)) from None
    except yaml.reader.ReaderError as e:  # a control character outside a quoted escape
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        char = e.character if isinstance(e.character, int) else ord(e.character)
        raise UsageError(
            f"{source}: the control character U+{char:04X} at line {line}, column {column} is not allowed "
            f"(a spec holds printable text; newline and tab only in kubeadm_patches)",
            fix=_fix(source),
        ) from None
    except yaml.YAMLError as e:
        raise UsageError(f"{source}: invalid YAML: {e}", fix=_fix(source)) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise UsageError(
            f"{source}: a cluster spec is a YAML mapping, not a {type(doc).__name__} "
            f"(allowed: {', '.join(ClusterSpec.model_fields)})",
            fix=_fix(source),
        )
    return doc


def _as_path(path_or_text: str | Path) -> Path | None:
    """A Path, or a one-line string naming a .yaml/.yml or an existing file; anything else is YAML text."""
    if isinstance(path_or_text, Path):
        return path_or_text
    if "\n" in path_or_text or not path_or_text.strip():
        return None
    if path_or_text.endswith((".yaml", ".yml")) or Path(path_or_text).is_file():
        return Path(path_or_text)
    return None


def _read_spec_file(path: Path) -> str:
    """The text of a spec file: UTF-8 (an initial BOM is dropped), whatever the locale says."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read spec file {path}: {e.strerror or e}", fix=_fix(str(path))) from None
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        offset = e.start + len(data) - len(body)  # in the file, BOM included
        line = data.count(b"\n", 0, offset) + 1
        raise UsageError(
            f"spec file {path} is not UTF-8: byte 0x{data[offset]:02x} at offset {offset} (line {line}): {e.reason}",
            fix=f"convert {path} to UTF-8, e.g. iconv -f latin1 -t utf-8 {path} > spec.utf8.yaml",
        ) from None


def load_spec(path_or_text: str | Path) -> ClusterSpec:
    """A ClusterSpec from a YAML file (relative ``cni_manifest`` paths are relative to it) or YAML text."""
    path = _as_path(path_or_text)
    if path is None:
        return spec_from_dict(_parse_yaml(str(path_or_text), SOURCE_TEXT), source=SOURCE_TEXT)
    if not path.is_file():
        raise UsageError(f"spec file {path} not found", fix=f"give the path of a spec file, e.g. {REFERENCE}")
    data = _parse_yaml(_read_spec_file(path), str(path))
    return spec_from_dict(data, source=str(path), base_dir=path.parent)


def spec_from_dict(d: Mapping[str, Any], *, source: str | None = None, base_dir: Path | None = None) -> ClusterSpec:
    """Validate ``d``; ``source`` names it in errors, ``base_dir`` anchors a relative ``cni_manifest``."""
    context = {"base_dir": base_dir} if base_dir is not None else None
    try:
        return ClusterSpec.model_validate(dict(d) if isinstance(d, Mapping) else d, context=context)
    except ValidationError as e:
        raise spec_error(e, source) from None


def spec_from_kwargs(**kw: Any) -> ClusterSpec:
    """``spec_from_kwargs(workers=3, control_planes=3, kube_proxy_mode="nftables", failover="fast")``.

    Networking fields may be given flat (they are moved under ``networking``), ``failover`` may be a
    profile name; everything else is as in a spec file. For pytest markers and quick Python use.
    """
    data = dict(kw)
    flat = [k for k in data if k in Networking.model_fields and k not in ClusterSpec.model_fields]
    if flat:
        base = data.get("networking") or {}
        if isinstance(base, Networking):
            base = base.model_dump(exclude_unset=True)
        data["networking"] = {**base, **{k: data.pop(k) for k in flat}} if isinstance(base, Mapping) else base
    return spec_from_dict(data, source=SOURCE_KWARGS)


def dump_spec(spec: ClusterSpec, *, minimal: bool = False) -> str:
    """YAML that ``load_spec`` turns back into an equal spec; ``minimal`` leaves out default values."""
    data = spec.model_dump(mode="json", exclude_defaults=minimal)
    return yaml.dump(data, Dumper=_SpecDumper, sort_keys=False, default_flow_style=False)


def spec_error(exc: ValidationError, source: str | None = None) -> UsageError:
    """One UsageError listing every problem of ``exc`` as ``field.path: problem (allowed: ...)``."""
    problems = [_describe(err) for err in exc.errors(include_url=False)]
    where = f" in {source}" if source else ""
    head = f"invalid cluster spec{where}: {len(problems)} problem{'' if len(problems) == 1 else 's'}"
    return UsageError("\n  ".join([head, *problems]), fix=_fix(source))


def _describe(err: ErrorDetails) -> str:
    loc = tuple(err["loc"])
    path = _path(loc)
    if err["type"] == "extra_forbidden":
        return f"{path}: {_unknown_field(loc)}"
    if err["type"] == "value_error":
        message = err["msg"].removeprefix("Value error, ")
    elif err["type"] == "literal_error":
        message = f"{err['input']!r} is not a valid choice"
    elif err["type"] == "missing":
        message = "required"
    else:
        message = f"{err['msg']}, got {_short(err['input'])}"
    _, info = _walk(loc)
    allowed = _allowed(info) if info is not None else None
    return f"{path}: {message} (allowed: {allowed})" if allowed and "(allowed:" not in message else f"{path}: {message}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "spec"


def _submodel(annotation: Any) -> type[BaseModel] | None:
    for candidate in get_args(annotation) or (annotation,):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _walk(loc: Loc) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model and the field ``loc`` points at (None past dicts, lists or unknown names)."""
    model: type[BaseModel] | None = ClusterSpec
    info: FieldInfo | None = None
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None, None
        info = model.model_fields[part]
        model = _submodel(info.annotation)
    return model, info


def _allowed(info: FieldInfo) -> str | None:
    """Literal choices (``iptables, nftables``) or an integer range (``0..20``, ``> 0``)."""
    if get_origin(info.annotation) is Literal:
        return ", ".join(str(a) for a in get_args(info.annotation))
    low = next((m.ge for m in info.metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in info.metadata if isinstance(m, annotated_types.Le)), None)
    above = next((m.gt for m in info.metadata if isinstance(m, annotated_types.Gt)), None)
    if low is not None and high is not None:
        return f"{low}..{high}"
    return f"integers > {above}" if above is not None else None


def _unknown_field(loc: Loc) -> str:
    model, _ = _walk(loc[:-1])
    names = list(model.model_fields) if model is not None else []
    key = str(loc[-1])
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower().replace("-", "_")
    close = [snake] if snake in names else difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f", did you mean {close[0]!r}?" if close else ""
    if close and snake == close[0] and snake != key:
        hint += " (fields are snake_case)"
    return f"unknown field {key!r}{hint} (allowed: {', '.join(names)})"
