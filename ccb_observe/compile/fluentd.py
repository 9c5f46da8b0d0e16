"""fluentd/fluent.conf in v1 syntax, and the same text in a Kubernetes ConfigMap.

The pipeline becomes a directive tree (validate/fluentd.py's type), every directive is checked
against the plugin catalog here, at generate time, and the tree is rendered with every value
double-quoted and escaped: user text can neither close a string nor start Ruby (`#{`).
"""

from __future__ import annotations

from typing import Iterable

from ..durations import Duration
from ..errors import DefinitionError, Location
from ..model import System
from ..model.base import frozen_mapping
from ..model.logs import (
    FileBuffer,
    FileOutput,
    Filter,
    JsonParse,
    KubernetesMetadata,
    LogPipeline,
    Output,
    RecordTransform,
    Redaction,
    SecretRef,
    StdoutOutput,
    TailSource,
)
from ..output import HEADER
from ..output import Output as Files
from ..output import to_yaml
from ..validate.fluentd import CONF, CONFIGMAP, Directive, Embedded, Param, Value, env_fetch, problems, root

# ---------------------------------------------------------------- rendering


def quote(text: str) -> str:
    """A fluentd double-quoted string that reads back as exactly `text`."""
    escaped = {"\\": "\\\\", '"': '\\"', "#": "\\#", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\f": "\\f", "\b": "\\b"}
    return '"' + "".join(escaped.get(ch, ch) for ch in text) + '"'


def value_text(value: Value) -> str:
    if isinstance(value, Embedded):
        return '"#{' + value.code + '}"'
    return quote(value)


def render(tree: Directive) -> str:
    lines: list[str] = []
    for directive in tree.children:
        _render(directive, 0, lines)
        lines.append("")
    return "\n".join(lines)


def _render(directive: Directive, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    if any(ch in directive.arg for ch in "<>#\n\r") or directive.arg != directive.arg.strip():
        raise ValueError(f"unsafe directive argument {directive.arg!r}")
    lines.append(f"{pad}{directive.label}")
    lines.extend(f"{pad}  {p.key} {value_text(p.value)}" for p in directive.params)
    for child in directive.children:
        _render(child, depth + 1, lines)
    lines.append(f"{pad}</{directive.name}>")


# ---------------------------------------------------------------- model -> directives


def _directive(name: str, arg: str = "", params: Iterable[tuple[str, Value | None]] = (), children: Iterable[Directive] = ()) -> Directive:
    """Parameters whose value is None are left out (the plugin's default holds)."""
    kept = tuple(Param(k, v) for k, v in params if v is not None)
    return Directive(name, arg, kept, tuple(children))


def _bool(flag: bool) -> str:
    return "true" if flag else "false"


def _time(duration: Duration | None) -> str | None:
    """fluentd reads one unit only: 5m, 1h; anything else in seconds."""
    if duration is None:
        return None
    text = str(duration)
    return text if text.rstrip("smhd").isdigit() else f"{duration.seconds}s"


def _secret(ref: SecretRef | None) -> Embedded | None:
    return None if ref is None else env_fetch(ref.env)


def source(src: TailSource) -> Directive:
    parse = src.parse
    parse_params: list[tuple[str, Value | None]] = [("@type", "json" if isinstance(parse, JsonParse) else "regexp")]
    if not isinstance(parse, JsonParse):
        parse_params.append(("expression", "/" + parse.expression + "/"))
    parse_params += [("time_key", parse.time_key), ("time_format", parse.time_format), ("keep_time_key", _bool(parse.keep_time_key))]
    return _directive("source", params=[
        ("@type", "tail"),
        ("@id", src.name),
        ("path", ",".join(src.paths)),
        ("exclude_path", ",".join(src.exclude_paths) or None),
        ("pos_file", src.pos_file),
        ("tag", src.tag),
        ("read_from_head", _bool(src.read_from_head)),
        ("refresh_interval", _time(src.refresh_interval)),
        *frozen_mapping(src.extra_params),
    ], children=[_directive("parse", params=parse_params)])


def filter_(flt: Filter) -> Directive:
    if isinstance(flt, KubernetesMetadata):
        return _directive("filter", flt.match, [
            ("@type", "kubernetes_metadata"),
            ("skip_labels", _bool(flt.skip_labels)),
            ("skip_container_metadata", _bool(flt.skip_container_metadata)),
            *frozen_mapping(flt.extra_params),
        ])
    if isinstance(flt, RecordTransform):
        record = [_directive("record", params=frozen_mapping(flt.add))] if flt.add else []
        return _directive("filter", flt.match, [
            ("@type", "record_transformer"),
            ("remove_keys", ",".join(flt.remove) or None),
        ], record)
    return _directive("filter", flt.match, [
        ("@type", "record_transformer"),
        ("enable_ruby", "true"),
        ("auto_typecast", "true"),  # non-string fields keep their type
    ], [_directive("record", params=[(name, redaction_placeholder(name, flt.rules)) for name in flt.fields])])


def redaction_placeholder(field: str, rules: Iterable[Redaction]) -> str:
    """A record_transformer ${…} expression: the field with every rule applied, in order, when it
    is a string; left as it is otherwise. `scrub` first: gsub raises on invalid UTF-8, and a line
    that fails to expand would be dropped."""
    value = f"record[{ruby_single(field)}]"
    chain = "".join(f".gsub({ruby_regex(r.pattern)}, {ruby_single(r.replacement)})" for r in rules)
    return f"${{{value}.is_a?(String) ? {value}.scrub{chain} : {value}}}"


def ruby_single(text: str) -> str:
    """A Ruby single-quoted string: no interpolation; only \\\\ and \\' are escapes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ruby_regex(pattern: str) -> str:
    """A Ruby regexp literal for a portable pattern: '/' would end it and '#' could interpolate."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":
            out.append(pattern[i: i + 2])
            i += 2
            continue
        out.append("\\" + pattern[i] if pattern[i] in "/#" else pattern[i])
        i += 1
    return "/" + "".join(out) + "/"


def buffer(buf: FileBuffer) -> Directive:
    return _directive("buffer", params=[
        ("@type", "file"),
        ("path", buf.path),
        ("chunk_limit_size", buf.chunk_limit_size),
        ("total_limit_size", buf.total_limit_size),
        ("flush_mode", "interval"),
        ("flush_interval", _time(buf.flush_interval)),
        ("flush_thread_count", str(buf.flush_thread_count)),
        ("flush_at_shutdown", "true"),
        ("retry_type", "exponential_backoff"),
        ("retry_wait", _time(buf.retry_wait)),
        ("retry_max_interval", _time(buf.retry_max_interval)),
        ("retry_timeout", _time(buf.retry_timeout)),
        ("overflow_action", buf.overflow_action),
        *frozen_mapping(buf.extra_params),
    ])


def output(out: Output) -> Directive:
    if isinstance(out, StdoutOutput):
        return _directive("match", out.match, [("@type", "stdout")])
    if isinstance(out, FileOutput):
        return _directive("match", out.match, [("@type", "file"), ("path", out.path)], [buffer(out.buffer)])
    dated = out.index_date_format is not None
    return _directive("match", out.match, [
        ("@type", out.flavor),
        ("host", out.host),
        ("port", str(out.port)),
        ("scheme", out.scheme),
        ("user", _secret(out.user)),
        ("password", _secret(out.password)),
        ("ssl_verify", _bool(out.ssl_verify)),
        ("ca_file", out.ca_file),
        ("logstash_format", _bool(dated)),
        ("logstash_prefix", out.index if dated else None),
        ("logstash_dateformat", out.index_date_format),
        ("index_name", None if dated else out.index),
        ("include_tag_key", "true"),
        ("suppress_type_name", "true" if out.flavor == "elasticsearch" else None),  # no mapping types since ES 7
        *frozen_mapping(out.extra_params),
    ], [buffer(out.buffer)])


def pieces(pipeline: LogPipeline) -> list[tuple[Location, str, Directive]]:
    """Each directive with the definition it comes from, in fluentd's order: sources, filters, outputs."""
    found: list[tuple[Location, str, Directive]] = []
    found += [(s.defined_at, f"log source {s.name!r}", source(s)) for s in pipeline.sources]
    found += [(f.defined_at, f"{type(f).__name__} filter on {f.match!r}", filter_(f)) for f in pipeline.filters]
    found += [(o.defined_at, f"{type(o).__name__} on {o.match!r}", output(o)) for o in pipeline.outputs]
    return found


def config_tree(pipeline: LogPipeline) -> Directive:
    """The checked tree: a parameter the plugin does not know, or a missing required one, is a
    DefinitionError naming the definition."""
    parts = pieces(pipeline)
    for where, what, directive in parts:
        found = problems(root(directive))
        if found:
            raise DefinitionError(where, what, f"fluentd would reject {found[0]}")
    return root(*(directive for _, _, directive in parts))


def configmap(system: System, pipeline: LogPipeline, text: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": pipeline.configmap,
            "namespace": pipeline.namespace,
            "labels": {"app.kubernetes.io/name": "fluentd", "app.kubernetes.io/part-of": system.name},
        },
        "data": {"fluent.conf": text},
    }


def compile(system: System) -> Files:
    pipeline = system.logs
    if pipeline is None:
        return {}
    text = HEADER + "\n" + render(config_tree(pipeline))
    return {CONF: text.encode(), CONFIGMAP: to_yaml(configmap(system, pipeline, text))}
