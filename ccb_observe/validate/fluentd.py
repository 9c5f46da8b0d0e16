"""fluentd v1 configuration, read back: the directive tree, a parser that reads it the way fluentd's
V1Parser does, and a catalog of the parameters each plugin we emit accepts.

No fluentd is installable here, so this is the check: the renderer (compile/fluentd.py) must write
text this parser reads back into the same tree, and every directive must pass the catalog.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Union

import yaml

from ..output import read_yaml
from .findings import Finding

CONF = "fluentd/fluent.conf"
CONFIGMAP = "fluentd/configmap.yaml"


# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Embedded:
    """Ruby evaluated when fluentd reads the file: the whole value is "#{code}"."""

    code: str


Value = Union[str, Embedded]


@dataclass(frozen=True)
class Param:
    key: str
    value: Value
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Directive:
    name: str
    arg: str = ""
    params: tuple[Param, ...] = ()
    children: tuple["Directive", ...] = ()
    line: int = field(default=0, compare=False)

    def get(self, key: str) -> Value | None:
        return next((p.value for p in self.params if p.key == key), None)

    @property
    def type(self) -> str | None:
        value = self.get("@type")
        return value if isinstance(value, str) else None

    @property
    def label(self) -> str:
        return f"<{self.name}{' ' + self.arg if self.arg else ''}>"


def root(*children: Directive) -> Directive:
    return Directive("ROOT", children=children)


# Embedded Ruby we write ourselves, and allow: reading a variable from the environment.
ENV_FETCH = re.compile(r"^ENV\.fetch\('([A-Z_][A-Z0-9_]*)'\)$")


def env_fetch(name: str) -> Embedded:
    return Embedded(f"ENV.fetch('{name}')")


# ---------------------------------------------------------------- the parser


class ConfigSyntaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


_ELEMENT_NAME = re.compile(r"[A-Za-z0-9_]+")
# Escapes fluentd reads in a double-quoted string; any other letter or digit is an error there.
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "b": "\b"}


class _Reader:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    @property
    def line(self) -> int:
        return self.text.count("\n", 0, self.pos) + 1

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos: self.pos + n]

    def eof(self) -> bool:
        return self.pos >= len(self.text)

    def fail(self, message: str) -> ConfigSyntaxError:
        return ConfigSyntaxError(self.line, message)

    def spacing(self) -> None:
        """Blanks, newlines and comments."""
        while not self.eof():
            ch = self.peek()
            if ch in " \t\r\n":
                self.pos += 1
            elif ch == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def blanks(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def line_end(self) -> None:
        self.blanks()
        if self.peek() == "#":
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end < 0 else end
        if self.eof():
            return
        if self.peek() not in ("\n", "\r"):
            raise self.fail(f"expected end of line, got {self.text[self.pos:self.pos + 20]!r}")
        self.pos += 1

    def element(self, name: str | None, line: int = 0, arg: str = "") -> Directive:
        params: list[Param] = []
        children: list[Directive] = []
        while True:
            self.spacing()
            if self.eof():
                if name is None:
                    return Directive("ROOT", params=tuple(params), children=tuple(children))
                raise self.fail(f"expected </{name}> before the end of the file")
            if self.peek(2) == "</":
                self.pos += 2
                closing = self.name()
                self.blanks()
                self.expect(">")
                self.line_end()
                if closing != name:
                    raise self.fail(f"</{closing}> closes <{name}>")
                return Directive(name, arg, tuple(params), tuple(children), line)
            if self.peek() == "<":
                start = self.line
                self.pos += 1
                child = self.name()
                self.blanks()
                end = self.text.find(">", self.pos)
                newline = self.text.find("\n", self.pos)
                if end < 0 or (0 <= newline < end):
                    raise self.fail(f"<{child} …> is not closed by '>' on its line")
                child_arg = self.text[self.pos:end].rstrip(" \t")
                self.pos = end + 1
                self.line_end()
                children.append(self.element(child, start, child_arg))
                continue
            start = self.line
            key = self.key()
            self.blanks()
            if self.eof() or self.peek() in ("\n", "\r", "#"):
                value: Value = ""
            else:
                value = self.literal()
            self.line_end()
            params.append(Param(key, value, start))

    def name(self) -> str:
        found = _ELEMENT_NAME.match(self.text, self.pos)
        if not found:
            raise self.fail("expected a directive name")
        self.pos = found.end()
        return found.group()

    def expect(self, text: str) -> None:
        if not self.text.startswith(text, self.pos):
            raise self.fail(f"expected {text!r}")
        self.pos += len(text)

    def key(self) -> str:
        found = re.compile(r"[^ \t\r\n\"'<>#]+").match(self.text, self.pos)
        if not found:
            raise self.fail(f"expected a parameter name, got {self.text[self.pos:self.pos + 20]!r}")
        self.pos = found.end()
        return found.group()

    def literal(self) -> Value:
        ch = self.peek()
        if ch == '"':
            self.pos += 1
            return self.double_quoted()
        if ch == "'":
            self.pos += 1
            return self.single_quoted()
        if ch in "[{":
            raise self.fail("JSON values are not written by ccb_observe (quote the value)")
        # Up to the end of the line or a comment; a '#' right after a character is text (as in fluentd).
        found = re.compile(r"[^\r\n]*?(?=[ \t]+#|[ \t]*(?:\r|\n|$))").match(self.text, self.pos)
        assert found is not None
        self.pos = found.end()
        return found.group()

    def double_quoted(self) -> Value:
        parts: list[str] = []
        code: str | None = None
        while True:
            if self.eof():
                raise self.fail("unexpected end of file in a double-quoted string")
            ch = self.peek()
            if ch == '"':
                self.pos += 1
                break
            if ch == "\\":
                escaped = self.peek(2)[1:]
                if not escaped or escaped == "\n":
                    raise self.fail("a back-slash ends the line inside a double-quoted string")
                if escaped.isalnum() and escaped not in _ESCAPES:
                    raise self.fail(f"unexpected back-slash escape character {escaped!r}")
                parts.append(_ESCAPES.get(escaped, escaped))
                self.pos += 2
            elif self.peek(2) == "#{":
                end = self.text.find("}", self.pos)
                if end < 0:
                    raise self.fail("embedded Ruby #{…} is not closed")
                code = self.text[self.pos + 2:end]
                parts.append("\0")  # where the code sits, to tell a lone reference from mixed text
                self.pos = end + 1
            elif ch == "\n":
                raise self.fail("a double-quoted string runs past the end of the line")
            else:
                parts.append(ch)
                self.pos += 1
        if code is None:
            return "".join(parts)
        if parts != ["\0"]:
            raise self.fail("embedded Ruby #{…} mixed with text")
        return Embedded(code)

    def single_quoted(self) -> str:
        parts: list[str] = []
        while True:
            if self.eof():
                raise self.fail("unexpected end of file in a single-quoted string")
            if self.peek(2) in ("\\'", "\\\\"):
                parts.append(self.peek(2)[1])
                self.pos += 2
            elif self.peek() == "'":
                self.pos += 1
                return "".join(parts)
            else:
                parts.append(self.peek())
                self.pos += 1


def parse(text: str) -> Directive:
    """The directive tree of a fluentd v1 configuration (no @include)."""
    return _Reader(text).element(None)


# ---------------------------------------------------------------- the catalog

# Parameter kinds: how fluentd's config types read a value.
_KIND_RE = {
    "bool": re.compile(r"^(?:true|false)$"),
    "integer": re.compile(r"^-?[0-9]+$"),
    "float": re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$"),
    "size": re.compile(r"^[0-9]+(?:\.[0-9]+)?[kmgtKMGT]?[bB]?$"),
    "time": re.compile(r"^[0-9]+(?:\.[0-9]+)?[smhd]?$"),
}


@dataclass(frozen=True)
class Plugin:
    params: Mapping[str, str]  # name -> kind: string, bool, integer, float, size, time, or "a|b|c"
    required: frozenset[str] = frozenset()
    sections: Mapping[str, bool] = field(default_factory=dict)  # section name -> required


def _params(text: str) -> dict[str, str]:
    """'name:kind name2' -> {name: kind}; the kind defaults to string."""
    out = {}
    for item in text.split():
        name, _, kind = item.partition(":")
        out[name] = kind or "string"
    return out


SYSTEM_PARAMS = _params("@type @id @label @log_level:trace|debug|info|warn|error|fatal")
_PARSE_COMMON = _params(
    "time_key time_type:float|unixtime|string|mixed time_format keep_time_key:bool types null_value_pattern "
    "null_empty_string:bool estimate_current_event:bool timeout:time localtime:bool utc:bool timezone"
)
_BUFFER_COMMON = _params(
    "chunk_limit_size:size chunk_limit_records:integer total_limit_size:size queued_chunks_limit_size:integer "
    "compress:text|gzip flush_at_shutdown:bool flush_mode:default|lazy|interval|immediate flush_interval:time "
    "flush_thread_count:integer flush_thread_interval:float flush_thread_burst_interval:float "
    "delayed_commit_timeout:time overflow_action:throw_exception|block|drop_oldest_chunk retry_timeout:time "
    "retry_forever:bool retry_max_times:integer retry_secondary_threshold:float "
    "retry_type:exponential_backoff|periodic retry_wait:time retry_exponential_backoff_base:float "
    "retry_max_interval:time retry_randomize:bool timekey:time timekey_wait:time timekey_use_utc:bool "
    "timekey_zone chunk_full_threshold:float disable_chunk_backup:bool"
)
_SEARCH_COMMON = (
    "host port:integer hosts scheme:http|https path user password index_name logstash_format:bool "
    "logstash_prefix logstash_prefix_separator logstash_dateformat include_timestamp:bool include_tag_key:bool "
    "tag_key time_key ssl_verify:bool ca_file client_cert client_key client_key_pass request_timeout:time "
    "reconnect_on_error:bool reload_connections:bool reload_on_failure:bool id_key "
    "write_operation:index|create|update|upsert target_index_key template_name template_file "
    "http_backend:excon|typhoeus"
)

# (directive or section name, @type) -> what that plugin accepts. Sources: the fluentd v1 docs for
# the core plugins, and the README of fluent-plugin-elasticsearch, -opensearch and
# -kubernetes_metadata_filter. Deliberately absent: v0.12 leftovers (`format` on in_tail, `type_name`).
CATALOG: dict[tuple[str, str], Plugin] = {
    ("source", "tail"): Plugin(
        _params(
            "path tag pos_file exclude_path path_key refresh_interval:time read_from_head:bool rotate_wait:time "
            "follow_inodes:bool limit_recently_modified:time skip_refresh_on_startup:bool read_lines_limit:integer "
            "read_bytes_limit_per_second:size max_line_size:size multiline_flush_interval:time "
            "pos_file_compaction_interval:time enable_watch_timer:bool enable_stat_watcher:bool "
            "emit_unmatched_lines:bool ignore_repeated_permission_error:bool encoding from_encoding "
            "path_timezone open_on_every_update:bool"
        ),
        frozenset({"path", "tag"}),
        {"parse": True},
    ),
    ("parse", "json"): Plugin({**_PARSE_COMMON, **_params("json_parser:oj|yajl|json stream_buffer_size:integer")}),
    ("parse", "regexp"): Plugin({**_PARSE_COMMON, **_params("expression ignorecase:bool multiline:bool")}, frozenset({"expression"})),
    ("parse", "none"): Plugin({**_PARSE_COMMON, **_params("message_key")}),
    ("filter", "kubernetes_metadata"): Plugin(_params(
        "kubernetes_url apiVersion client_cert client_key ca_file verify_ssl:bool bearer_token_file "
        "cache_size:integer cache_ttl:integer watch:bool de_dot:bool de_dot_separator skip_labels:bool "
        "skip_container_metadata:bool skip_master_url:bool skip_namespace_metadata:bool annotation_match "
        "allow_orphans:bool tag_to_kubernetes_name_regexp stats_interval:integer open_timeout:integer "
        "read_timeout:integer"
    )),
    ("filter", "record_transformer"): Plugin(
        _params("enable_ruby:bool auto_typecast:bool renew_record:bool renew_time_key keep_keys remove_keys"),
        sections={"record": False},
    ),
    ("match", "elasticsearch"): Plugin(
        _params(_SEARCH_COMMON + " suppress_type_name:bool verify_es_version_at_startup:bool default_elasticsearch_version:integer log_es_400_reason:bool"),
        sections={"buffer": False},
    ),
    ("match", "opensearch"): Plugin(
        _params(_SEARCH_COMMON + " verify_os_version_at_startup:bool default_opensearch_version:integer log_os_400_reason:bool"),
        sections={"buffer": False},
    ),
    ("match", "file"): Plugin(
        _params("path append:bool add_path_suffix:bool path_suffix compress:text|gzip symlink_path recompress:bool"),
        frozenset({"path"}),
        {"buffer": False, "format": False},
    ),
    ("match", "stdout"): Plugin({}, sections={"format": False}),
    ("format", "json"): Plugin(_params("add_newline:bool json_parser:oj|yajl|json")),
    ("buffer", "file"): Plugin(
        {**_BUFFER_COMMON, **_params("path path_suffix file_permission dir_permission")}, frozenset({"path"}),
    ),
    ("buffer", "memory"): Plugin(_BUFFER_COMMON),
}
TOP_LEVEL = ("source", "filter", "match")
TYPED_SECTIONS = ("parse", "buffer", "format")  # any other section (`record`) takes free keys


@dataclass(frozen=True)
class Problem:
    line: int
    where: str  # e.g. "<match kubernetes.**> <buffer>"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def problems(tree: Directive) -> list[Problem]:
    """Everything in the tree fluentd (with our plugins) would reject, or we never allow."""
    found: list[Problem] = []
    for directive in tree.children:
        if directive.name not in TOP_LEVEL:
            found.append(Problem(directive.line, directive.label, f"unknown directive (ccb_observe writes {', '.join(TOP_LEVEL)})"))
            continue
        if directive.name in ("filter", "match") and not directive.arg:
            found.append(Problem(directive.line, directive.label, "a tag pattern is required"))
        found += _check_plugin(directive, directive.name, directive.label)
    for directive, where in _walk(tree, ""):
        for param in directive.params:
            if isinstance(param.value, Embedded) and not ENV_FETCH.match(param.value.code):
                found.append(Problem(param.line, where, f"{param.key}: embedded Ruby other than ENV.fetch('NAME'): {param.value.code!r}"))
    return found


def _walk(directive: Directive, where: str) -> Iterator[tuple[Directive, str]]:
    for child in directive.children:
        path = f"{where} {child.label}".strip()
        yield child, path
        yield from _walk(child, path)


def _check_plugin(directive: Directive, kind: str, where: str) -> list[Problem]:
    plugin_type = directive.type
    if plugin_type is None:
        return [Problem(directive.line, where, "@type is required")]
    plugin = CATALOG.get((kind, plugin_type))
    if plugin is None:
        known = sorted(t for k, t in CATALOG if k == kind)
        return [Problem(directive.line, where, f"no {kind} plugin {plugin_type!r} in the catalog (known: {', '.join(known)})")]
    found = _check_params(directive, {**SYSTEM_PARAMS, **plugin.params}, plugin.required, f"{kind} {plugin_type}", where)
    seen_sections = set()
    for child in directive.children:
        child_where = f"{where} {child.label}"
        if child.name not in plugin.sections:
            allowed = ", ".join(f"<{s}>" for s in plugin.sections) or "none"
            found.append(Problem(child.line, child_where, f"{kind} {plugin_type} has no <{child.name}> section (allowed: {allowed})"))
        elif child.name in TYPED_SECTIONS:
            found += _check_plugin(child, child.name, child_where)
        elif child.children:
            found.append(Problem(child.line, child_where, "a free-form section holds parameters only"))
        seen_sections.add(child.name)
    for section, required in sorted(plugin.sections.items()):
        if required and section not in seen_sections:
            found.append(Problem(directive.line, where, f"{kind} {plugin_type} requires a <{section}> section"))
    return found


def _check_params(directive: Directive, accepted: Mapping[str, str], required: frozenset[str], plugin: str, where: str) -> list[Problem]:
    found: list[Problem] = []
    seen: set[str] = set()
    for param in directive.params:
        if param.key in seen:
            found.append(Problem(param.line, where, f"{param.key} is set twice"))
        seen.add(param.key)
        kind = accepted.get(param.key)
        if kind is None:
            close = difflib.get_close_matches(param.key, list(accepted), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            found.append(Problem(param.line, where, f"{plugin} has no parameter {param.key!r}{hint}"))
        elif isinstance(param.value, str) and not _reads_as(kind, param.value):
            found.append(Problem(param.line, where, f"{param.key} is a {kind.replace('|', ' or ')}, got {param.value!r}"))
    for name in sorted(required - seen):
        found.append(Problem(directive.line, where, f"{plugin} requires {name!r}"))
    return found


def _reads_as(kind: str, value: str) -> bool:
    if "|" in kind:
        return value in kind.split("|")
    pattern = _KIND_RE.get(kind)
    return pattern is None or bool(pattern.match(value))


# ---------------------------------------------------------------- the check


def checks(system_dir: Path) -> list[Finding]:
    """fluent.conf parses, passes the catalog, and the ConfigMap carries the same text."""
    conf = system_dir / CONF
    if not conf.is_file():
        return []
    text = conf.read_text()
    try:
        tree = parse(text)
    except ConfigSyntaxError as exc:
        return [Finding(str(conf), exc.line, "fluentd/syntax", str(exc), "regenerate with `make generate`")]
    findings = [Finding(str(conf), p.line, "fluentd/catalog", str(p), "see the plugin's parameter list") for p in problems(tree)]
    return findings + _configmap_findings(system_dir, text)


def _configmap_findings(system_dir: Path, text: str) -> list[Finding]:
    path = system_dir / CONFIGMAP
    if not path.is_file():
        return [Finding(str(path), 0, "fluentd/configmap", "missing beside fluent.conf", "regenerate with `make generate`")]
    try:
        document = read_yaml(path.read_text())
        embedded = document["data"]["fluent.conf"]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        return [Finding(str(path), 0, "fluentd/configmap", f"no data.fluent.conf: {exc}")]
    if document.get("kind") != "ConfigMap" or document.get("apiVersion") != "v1":
        return [Finding(str(path), 0, "fluentd/configmap", "not a v1 ConfigMap")]
    if embedded != text:
        return [Finding(str(path), 0, "fluentd/configmap", "data.fluent.conf differs from fluent.conf", "regenerate with `make generate`")]
    return []
