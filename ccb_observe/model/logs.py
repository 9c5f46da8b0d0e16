"""Log pipelines: what fluentd tails, how it parses, filters (and redacts), buffers and ships, and
how logrotate keeps the bot's own log files in check.

Patterns meant for Ruby (redaction, regexp parsing) are written in a subset that Ruby's Onigmo and
Python's `re` read the same way, so the tests can prove in Python what fluentd will do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Mapping, Union

from ..durations import Duration
from ..errors import DefinitionError, Location
from .base import defined_here, duration_of, frozen_mapping, set_field

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_ID = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_\-]+(?:\.(?:[A-Za-z0-9_\-]+|\*))*$")
_TAG_PATTERN = re.compile(r"^(?:\*\*|\*|[A-Za-z0-9_\-{},*]+)(?:\.(?:\*\*|\*|[A-Za-z0-9_\-{},*]+))*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_SIZE = re.compile(r"^[0-9]+[kmgt]?$", re.IGNORECASE)
_PATH = re.compile(r"^/[A-Za-z0-9_.*\-/]+$")
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
_INDEX = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_SHELL_LINE = re.compile(r"^[^\n\r]+$")
_MODE = re.compile(r"^0[0-7]{3}$")
_ACCOUNT = re.compile(r"^[a-z_][a-z0-9_\-]*$")
# Plugin parameters the model has no field for, given as a mapping; the catalog checks them.
Params = Union[Mapping[str, str], tuple[tuple[str, str], ...]]
# Placeholders record_transformer expands in a value even without enable_ruby.
_PLACEHOLDER = re.compile(r"\$\{|__[A-Z_]+__")


@dataclass(frozen=True)
class SecretRef:
    """A credential read from the environment when fluentd starts (fails fast when unset)."""

    env: str

    def __post_init__(self) -> None:
        if not _ENV_NAME.match(self.env):
            raise ValueError(f"not an environment variable name: {self.env!r}")


def env(name: str) -> SecretRef:
    return SecretRef(name)


# ---------------------------------------------------------------- patterns Ruby and Python agree on

# Escapes whose meaning differs (\w \d \s \b are Unicode in Python, ASCII in Ruby; \h, \z, \A, \Z
# exist in one only) or that need a group count (\1) are left out.
_SAFE_ESCAPES = set("tnr.-+*?()[]{}|/\\^$#:=\"' @_,;&%!<>~`")
_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")


def portable_regex_problem(pattern: str, line_pattern: bool = False) -> str | None:
    """Why `pattern` is outside the Ruby/Python common subset, or None when it is inside. A line
    pattern (parsing one log line) may also anchor (^ $: one line, the same in both) and name groups."""
    named_groups = line_pattern
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1] if i + 1 < len(pattern) else ""
            if nxt not in _SAFE_ESCAPES:
                return f"escape \\{nxt} reads differently in Ruby and Python (spell the characters out, e.g. [0-9] or [ \\t])"
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1: i + 2] == "]" or pattern[i + 1: i + 3] == "^]":
                return "a character class opening with ']' reads differently in Ruby and Python"
        elif ch in "^$" and not line_pattern:
            return f"anchor {ch!r} means end/start of *line* in Ruby but of string in Python"
        elif ch == "(" and pattern[i + 1: i + 2] == "?":
            rest = pattern[i + 2:]
            named = _NAMED_GROUP.match(pattern, i) if named_groups else None
            if named:
                i = named.end()
                continue
            if not (rest.startswith(":") or rest.startswith("i:") or rest.startswith("=") or rest.startswith("!")):
                return "only (?:…), (?i:…), (?=…) and (?!…) groups are portable" + (" (and (?<name>…))" if named_groups else "")
        i += 1
    try:
        re.compile(python_regex(pattern))
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return None


def python_regex(ruby_pattern: str) -> str:
    """The same pattern for Python's re: only named groups are spelled differently."""
    return _NAMED_GROUP.sub(r"(?P<\1>", ruby_pattern)


@dataclass(frozen=True)
class Redaction:
    """Replace what `pattern` matches with `replacement` (which may keep groups with \\1…\\9)."""

    name: str
    pattern: str
    replacement: str = "[REDACTED]"
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"redaction {self.name!r}"
        problem = portable_regex_problem(self.pattern)
        if problem:
            raise DefinitionError(where, what, f"pattern: {problem}")
        groups = re.compile(self.pattern).groups
        for ref in re.findall(r"\\(.?)", self.replacement):
            if not ref.isdigit() or ref == "0" or int(ref) > groups:
                raise DefinitionError(where, what, f"replacement may use \\1..\\{groups} only (the pattern has {groups} groups), got \\{ref}")
        if re.compile(self.pattern).match(""):
            raise DefinitionError(where, what, "pattern matches the empty string")


# The secrets the Claude Code Bot handles. Specific token shapes first, then the generic
# "name: value" ones, which keep the name and mask the value. Open-ended runs before a fixed word
# are bounded ({0,32}), so a long line costs linear time, not quadratic backtracking.
BOT_SECRETS = (
    Redaction("anthropic-api-key", r"sk-ant-[A-Za-z0-9_\-]{16,}", "[REDACTED:anthropic-key]"),
    Redaction("github-token", r"gh[pousr]_[A-Za-z0-9]{30,}", "[REDACTED:github-token]"),
    Redaction("github-fine-grained-token", r"github_pat_[A-Za-z0-9_]{30,}", "[REDACTED:github-token]"),
    Redaction(
        "authorization-header",
        r"((?i:authorization)[\"']?[ \t]*[:=][ \t]*[\"']?(?i:bearer|basic|token)[ \t]+)[A-Za-z0-9._~+/=\-]+",
        r"\1[REDACTED]",
    ),
    Redaction(
        "webhook-signature",
        r"((?i:x-hub-signature(?:-256)?)[\"']?[ \t]*[:=][ \t]*[\"']?sha(?:1|256)=)[0-9a-fA-F]+",
        r"\1[REDACTED]",
    ),
    Redaction(
        "secret-assignment",
        r"((?i:[a-z_\-]{0,32}(?:secret|password|passwd))[\"']?[ \t]*[:=][ \t]*[\"']?)[^ \t\r\n\"'&,;\\]+",
        r"\1[REDACTED]",
    ),
    Redaction("url-credentials", r"(://[^:/@ \t\r\n\"']{1,128}:)[^@/ \t\r\n\"']{1,256}@", r"\1[REDACTED]@"),
)


# ---------------------------------------------------------------- sources


@dataclass(frozen=True)
class JsonParse:
    time_key: str | None = "time"
    time_format: str | None = None
    keep_time_key: bool = False


@dataclass(frozen=True)
class RegexpParse:
    """A line regexp with named groups, written (?<name>…) as in Ruby."""

    expression: str
    time_key: str | None = "time"
    time_format: str | None = None
    keep_time_key: bool = False


Parse = Union[JsonParse, RegexpParse]


@dataclass(frozen=True)
class TailSource:
    """Files fluentd follows, remembering its position in `pos_file` across restarts."""

    name: str
    paths: tuple[str, ...]
    pos_file: str
    tag: str
    parse: Parse = JsonParse()
    exclude_paths: tuple[str, ...] = ()
    read_from_head: bool = True
    refresh_interval: Duration | None = None
    extra_params: Params = ()  # more in_tail parameters, checked by the catalog
    defined_at: Location = defined_here()

    @property
    def sample_tag(self) -> str:
        """The tag of a record from the first path: in_tail puts the path, '/' as '.', for '*'."""
        path = self.paths[0].replace("*", "x").strip("/").replace("/", ".")
        return self.tag.replace("*", path)

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"log source {self.name!r}"
        _check_id(where, what, self.name)
        set_field(self, "extra_params", _params_of(where, what, self.extra_params))
        set_field(self, "paths", tuple(self.paths))
        set_field(self, "exclude_paths", tuple(self.exclude_paths))
        set_field(self, "refresh_interval", duration_of(where, what, self.refresh_interval, "refresh_interval"))
        if not self.paths:
            raise DefinitionError(where, what, "tail at least one path")
        for path in (*self.paths, *self.exclude_paths, self.pos_file):
            _check_path(where, what, path)
        if not _TAG.match(self.tag):
            raise DefinitionError(where, what, f"tag {self.tag!r}: dot-separated words, optionally ending in '.*'")
        if isinstance(self.parse, RegexpParse):
            problem = portable_regex_problem(self.parse.expression, line_pattern=True)
            if problem:
                raise DefinitionError(where, what, f"parse expression: {problem}")
            if not _NAMED_GROUP.search(self.parse.expression):
                raise DefinitionError(where, what, "a regexp parse names its fields with (?<name>…) groups")
            if self.parse.time_key and f"(?<{self.parse.time_key}>" not in self.parse.expression:
                raise DefinitionError(where, what, f"time_key {self.parse.time_key!r} is not a group of the expression")


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class KubernetesMetadata:
    """Pod, namespace and label metadata for container log records."""

    match: str = "kubernetes.**"
    skip_labels: bool = False
    skip_container_metadata: bool = False
    extra_params: Params = ()
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        _check_pattern(self.defined_at, "kubernetes_metadata filter", self.match)
        set_field(self, "extra_params", _params_of(self.defined_at, "kubernetes_metadata filter", self.extra_params))


@dataclass(frozen=True)
class RecordTransform:
    """Static fields added to every record, and fields removed."""

    match: str
    add: Mapping[str, str] | tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, "record_transformer filter"
        _check_pattern(where, what, self.match)
        added = frozen_mapping(self.add)
        set_field(self, "add", added)
        set_field(self, "remove", tuple(self.remove))
        if not added and not self.remove:
            raise DefinitionError(where, what, "add or remove at least one field")
        for key, value in added:
            _check_field(where, what, key)
            if _PLACEHOLDER.search(value):
                raise DefinitionError(where, what, f"value of {key!r} would be expanded as a placeholder (contains '${{' or __NAME__)")
        for key in self.remove:
            _check_field(where, what, key)


@dataclass(frozen=True)
class Redact:
    """Mask secrets in the named string fields of every matching record."""

    match: str = "**"
    fields: tuple[str, ...] = ("log", "message")
    rules: tuple[Redaction, ...] = BOT_SECRETS
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, "redaction filter"
        _check_pattern(where, what, self.match)
        set_field(self, "fields", tuple(self.fields))
        set_field(self, "rules", tuple(self.rules))
        if not self.fields or not self.rules:
            raise DefinitionError(where, what, "name at least one field and one redaction rule")
        for name in self.fields:
            _check_field(where, what, name)


Filter = Union[KubernetesMetadata, RecordTransform, Redact]


# ---------------------------------------------------------------- buffers and outputs

OverflowAction = Literal["block", "drop_oldest_chunk", "throw_exception"]


@dataclass(frozen=True)
class FileBuffer:
    """Chunks on disk (they survive a restart), flushed periodically, retried with backoff."""

    path: str
    chunk_limit_size: str = "8m"
    total_limit_size: str = "2g"
    flush_interval: Duration = Duration(5)
    flush_thread_count: int = 2
    retry_wait: Duration = Duration(1)
    retry_max_interval: Duration = Duration(60)  # exponential backoff from retry_wait up to this
    retry_timeout: Duration = Duration(86400)  # then the chunk is given up
    overflow_action: OverflowAction = "block"
    extra_params: Params = ()
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"file buffer {self.path!r}"
        _check_path(where, what, self.path)
        set_field(self, "extra_params", _params_of(where, what, self.extra_params))
        for name in ("flush_interval", "retry_wait", "retry_max_interval", "retry_timeout"):
            set_field(self, name, duration_of(where, what, getattr(self, name), name))
        for name in ("chunk_limit_size", "total_limit_size"):
            if not _SIZE.match(getattr(self, name)):
                raise DefinitionError(where, what, f"{name} is a size like 8m or 2g, got {getattr(self, name)!r}")
        if _bytes(self.chunk_limit_size) > _bytes(self.total_limit_size):
            raise DefinitionError(where, what, "chunk_limit_size exceeds total_limit_size")
        if self.flush_thread_count < 1:
            raise DefinitionError(where, what, "flush_thread_count is at least 1")
        if self.retry_wait > self.retry_max_interval:
            raise DefinitionError(where, what, "retry_wait exceeds retry_max_interval")
        if self.overflow_action not in ("block", "drop_oldest_chunk", "throw_exception"):
            raise DefinitionError(where, what, f"overflow_action is block, drop_oldest_chunk or throw_exception, got {self.overflow_action!r}")


@dataclass(frozen=True)
class SearchOutput:
    """Elasticsearch or OpenSearch, one index per day: `<index>-YYYY.MM.DD`."""

    match: str
    host: str
    buffer: FileBuffer
    index: str
    flavor: Literal["elasticsearch", "opensearch"] = "elasticsearch"
    port: int = 9200
    scheme: Literal["http", "https"] = "https"
    user: SecretRef | None = None
    password: SecretRef | None = None
    index_date_format: str | None = "%Y.%m.%d"  # None: a single index named `index`
    ssl_verify: bool = True
    ca_file: str | None = None
    extra_params: Params = ()
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"{self.flavor} output"
        _check_pattern(where, what, self.match)
        set_field(self, "extra_params", _params_of(where, what, self.extra_params))
        if self.flavor not in ("elasticsearch", "opensearch"):
            raise DefinitionError(where, what, "flavor is elasticsearch or opensearch")
        if not _HOST.match(self.host):
            raise DefinitionError(where, what, f"host {self.host!r} is a host name or address")
        if not 0 < self.port < 65536:
            raise DefinitionError(where, what, f"port {self.port} is out of range")
        if not _INDEX.match(self.index):
            raise DefinitionError(where, what, f"index {self.index!r}: lower-case letters, digits, '-' and '_'")
        for name in ("user", "password"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, SecretRef):
                raise DefinitionError(where, what, f"{name} comes from the environment: write env('ES_{name.upper()}'), never the value")
        if (self.user is None) != (self.password is None):
            raise DefinitionError(where, what, "give user and password together")
        if self.password is not None and self.scheme != "https":
            raise DefinitionError(where, what, "credentials travel over https only")
        if self.ca_file is not None:
            _check_path(where, what, self.ca_file)


@dataclass(frozen=True)
class FileOutput:
    match: str
    path: str
    buffer: FileBuffer
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        _check_pattern(self.defined_at, "file output", self.match)
        _check_path(self.defined_at, "file output", self.path)


@dataclass(frozen=True)
class StdoutOutput:
    match: str = "**"
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        _check_pattern(self.defined_at, "stdout output", self.match)


Output = Union[SearchOutput, FileOutput, StdoutOutput]


# ---------------------------------------------------------------- logrotate


@dataclass(frozen=True)
class CreateMode:
    """Permissions of the fresh log file logrotate creates after moving the old one away."""

    mode: str = "0640"
    owner: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class LogRotation:
    """How the bot's log files are rotated. A writer that reopens its files on a signal gets
    `postrotate` (and `create` for the new file); one that cannot be told gets `copytruncate`."""

    paths: tuple[str, ...]
    rotate: int = 14
    frequency: Literal["daily", "weekly", "monthly"] = "daily"
    maxsize: str | None = "100M"  # rotate sooner when a file grows past this
    compress: bool = True
    delaycompress: bool = True
    copytruncate: bool = False
    create: CreateMode | None = None
    postrotate: tuple[str, ...] = ()
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, "log rotation"
        set_field(self, "paths", tuple(self.paths))
        set_field(self, "postrotate", tuple(self.postrotate))
        if not self.paths:
            raise DefinitionError(where, what, "rotate at least one path")
        for path in self.paths:
            _check_path(where, what, path)
        if self.rotate < 1:
            raise DefinitionError(where, what, "keep at least one rotated file")
        if self.frequency not in ("daily", "weekly", "monthly"):
            raise DefinitionError(where, what, "frequency is daily, weekly or monthly")
        if self.maxsize is not None and not _SIZE.match(self.maxsize):
            raise DefinitionError(where, what, f"maxsize is a size like 100M, got {self.maxsize!r}")
        if self.copytruncate == bool(self.postrotate):
            raise DefinitionError(where, what, "choose copytruncate (the writer keeps its file open) or postrotate commands (it reopens on a signal), exactly one")
        if self.copytruncate and self.create is not None:
            raise DefinitionError(where, what, "create has no effect with copytruncate (the file is never recreated)")
        for line in self.postrotate:
            if not _SHELL_LINE.match(line) or line.strip() in ("endscript", "") or "endscript" in line.split():
                raise DefinitionError(where, what, f"postrotate command {line!r}: one non-empty line, never 'endscript'")
        if self.create is not None:
            if not _MODE.match(self.create.mode):
                raise DefinitionError(where, what, f"create mode {self.create.mode!r} is octal like 0640")
            for account in (self.create.owner, self.create.group):
                if account is not None and not _ACCOUNT.match(account):
                    raise DefinitionError(where, what, f"{account!r} is not a user or group name")
            if self.create.group is not None and self.create.owner is None:
                raise DefinitionError(where, what, "create names a group only together with an owner")


# ---------------------------------------------------------------- the pipeline


@dataclass(frozen=True)
class LogPipeline:
    """Sources, then filters in order, then outputs (first matching output wins, as in fluentd)."""

    sources: tuple[TailSource, ...]
    outputs: tuple[Output, ...]
    filters: tuple[Filter, ...] = ()
    rotation: LogRotation | None = None
    namespace: str = "default"  # of the ConfigMap
    configmap: str = "fluentd-config"
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, "log pipeline"
        for name in ("sources", "outputs", "filters"):
            set_field(self, name, tuple(getattr(self, name)))
        if not self.sources or not self.outputs:
            raise DefinitionError(where, what, "a pipeline has at least one source and one output")
        for kind in (self.namespace, self.configmap):
            if not re.match(r"^[a-z0-9]([a-z0-9\-]*[a-z0-9])?$", kind):
                raise DefinitionError(where, what, f"{kind!r} is not a Kubernetes name")
        seen: dict[str, Location] = {}
        for source in self.sources:
            if source.name in seen:
                raise DefinitionError(source.defined_at, f"log source {source.name!r}", f"duplicate name (first defined at {seen[source.name]})")
            seen[source.name] = source.defined_at
        for source in self.sources:
            tag = source.sample_tag
            if not any(matches_tag(o.match, tag) for o in self.outputs):
                raise DefinitionError(source.defined_at, f"log source {source.name!r}", f"no output matches its tag {tag!r}: its records would be dropped")
        for flt in self.filters:
            if not any(matches_tag(flt.match, s.sample_tag) for s in self.sources):
                raise DefinitionError(flt.defined_at, f"{type(flt).__name__} filter", f"pattern {flt.match!r} matches no source's tag: it filters nothing")
        buffers: dict[str, Location] = {}
        for output in self.outputs:
            buffer = getattr(output, "buffer", None)
            if buffer is None:
                continue
            if buffer.path in buffers:
                raise DefinitionError(output.defined_at, "output", f"buffer path {buffer.path} is shared with the output at {buffers[buffer.path]}: each output needs its own")
            buffers[buffer.path] = output.defined_at


# ---------------------------------------------------------------- tags and patterns


def matches_tag(pattern: str, tag: str) -> bool:
    """fluentd's <match>/<filter> semantics: space-separated alternatives; per dot-separated part,
    `*` is one part, `**` zero or more, `{a,b}` either."""
    return any(_match_parts(alt.split("."), tag.split(".")) for alt in pattern.split(" "))


def _match_parts(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match_parts(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and _part_regex(head).fullmatch(parts[0]) is not None and _match_parts(rest, parts[1:])


def _part_regex(part: str) -> re.Pattern[str]:
    out = []
    for token in re.split(r"(\*|\{[^}]*\})", part):
        if token == "*":
            out.append("[^.]*")
        elif token.startswith("{") and token.endswith("}"):
            out.append("(?:" + "|".join(re.escape(alt) for alt in token[1:-1].split(",")) + ")")
        else:
            out.append(re.escape(token))
    return re.compile("".join(out))


# ---------------------------------------------------------------- shared checks


def _check_id(where: Location, what: str, name: str) -> None:
    if not _ID.match(name):
        raise DefinitionError(where, what, "a name is lower-case words joined by '-' or '_'")


def _check_path(where: Location, what: str, path: str) -> None:
    if not _PATH.match(path) or "/../" in path or path.endswith("/.."):
        raise DefinitionError(where, what, f"path {path!r}: absolute, of letters, digits, '_', '-', '.', '*' and '/' only")


def _check_pattern(where: Location, what: str, pattern: str) -> None:
    for part in pattern.split(" "):
        if not _TAG_PATTERN.match(part):
            raise DefinitionError(where, what, f"match pattern {pattern!r}: tag patterns like 'kubernetes.**', separated by spaces")


def _check_field(where: Location, what: str, name: str) -> None:
    if not _FIELD.match(name):
        raise DefinitionError(where, what, f"field name {name!r}: letters, digits, '_', '-', '.'")


def _params_of(where: Location, what: str, params: Params) -> tuple[tuple[str, str], ...]:
    pairs = frozen_mapping(params)
    for key, _ in pairs:
        if not re.match(r"^[a-z][a-z0-9_]*$", key):
            raise DefinitionError(where, what, f"parameter name {key!r}: lower-case letters, digits and '_'")
    return pairs


def _bytes(size: str) -> int:
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    digits = size.rstrip("kmgtKMGT")
    return int(digits) * units[size[len(digits):].lower()]


__all__ = [
    "BOT_SECRETS", "CreateMode", "FileBuffer", "FileOutput", "Filter", "JsonParse", "KubernetesMetadata",
    "LogPipeline", "LogRotation", "Output", "Parse", "Redact", "Redaction", "RecordTransform", "RegexpParse",
    "SearchOutput", "SecretRef", "StdoutOutput", "TailSource", "env", "matches_tag", "portable_regex_problem", "python_regex",
]
