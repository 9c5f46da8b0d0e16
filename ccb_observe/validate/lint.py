"""The offline PromQL linter: reads any Prometheus rule file (ours or hand-written), parses each
expression with promql-parser and judges it against the metric catalog and the declared SLOs.

Every finding names the rule's file:line (read off the YAML node marks), has an id
(`lint/<rule>`), says what is wrong and gives a one-line fix."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import promql_parser
import yaml

from ..output import YAML_LOADER, read_yaml
from .. import naming
from ..durations import Duration
from ..model import SLO, System
from ..model.alerts import Alert
from ..model.metrics import Metric, lookup
from ..model.slo import LatencyIndicator
from ..model.system import BUILTIN_SERIES
from ..promql_ast import Facts, PromQLSyntaxError, facts, parse
from .findings import Finding

# Prometheus's own default scrape and evaluation interval, when no definitions say otherwise.
PROMETHEUS_DEFAULT_INTERVAL = Duration(60)
MIN_SCRAPES_PER_RANGE = 4  # rate() needs two samples; four tolerate a missed scrape or two
REQUIRED_ANNOTATIONS = ("summary", "runbook_url")
COMPARISONS = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
SET_OPERATORS = {"and", "or", "unless"}
COUNTING_FUNCTIONS = {"rate", "irate", "increase"}
VALUE_PRESERVING_FUNCTIONS = {"clamp_min", "clamp_max", "clamp", "abs", "round", "ceil", "floor"}
VALUE_PRESERVING_AGGREGATIONS = {"sum", "max", "min", "avg", "topk", "bottomk"}
# What Prometheus 2.42 evaluates (promql-parser also accepts newer ones: info, limitk, sort_by_label, ...).
PROMETHEUS_FUNCTIONS = frozenset("""
    abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
    clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month
    deg delta deriv exp floor histogram_count histogram_fraction histogram_quantile histogram_sum
    holt_winters hour idelta increase irate label_join label_replace last_over_time ln log10 log2
    max_over_time min_over_time minute month pi predict_linear present_over_time quantile_over_time
    rad rate resets round scalar sgn sin sinh sort sort_desc sqrt stddev_over_time stdvar_over_time
    sum_over_time tan tanh time timestamp vector year
""".split())
PROMETHEUS_AGGREGATIONS = frozenset("sum min max avg group stddev stdvar count count_values bottomk topk quantile".split())
BURN_RATE_PREFIX = naming.burn_rate(Duration(60)).removesuffix("1m")  # "slo:burn_rate:"


# ---------------------------------------------------------------- what the linter knows


@dataclass(frozen=True)
class Known:
    """The catalog the rules are judged against: from the definitions' systems."""

    metrics: dict[str, Metric] = field(default_factory=dict)
    recorded: dict[str, frozenset[str]] = field(default_factory=dict)
    job_intervals: dict[str, Duration] = field(default_factory=dict)
    scrape_interval: Duration = PROMETHEUS_DEFAULT_INTERVAL
    evaluation_interval: Duration = PROMETHEUS_DEFAULT_INTERVAL
    slos: tuple[SLO, ...] = ()
    alerts: dict[str, Alert] = field(default_factory=dict)

    @classmethod
    def of(cls, systems: Sequence[System]) -> "Known":
        if not systems:
            return cls()
        first = systems[0]
        return cls(
            metrics={name: m for s in systems for name, m in s.catalog.items()},
            recorded={name: labels for s in systems for name, labels in s.recorded_series().items()},
            job_intervals={j.name: j.interval or s.scrape_interval for s in systems for j in s.scrape_jobs},
            scrape_interval=first.scrape_interval,
            evaluation_interval=first.evaluation_interval,
            slos=tuple(slo for s in systems for slo in s.slos),
            alerts={a.name: a for s in systems for a in s.alerts},
        )


# ---------------------------------------------------------------- rules as read from a file


@dataclass(frozen=True)
class FileRule:
    file: str
    line: int  # of the rule's first key
    expr_line: int
    group: str
    index: int  # 1-based within the group, as promtool counts
    group_interval: Duration | None
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.body.get("alert") or self.body.get("record") or "")

    @property
    def is_alert(self) -> bool:
        return "alert" in self.body

    @property
    def labels(self) -> dict[str, str]:
        labels = self.body.get("labels") or {}
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}

    def finding(self, rule: str, message: str, fix: str, at_expr: bool = True) -> Finding:
        kind = "alert" if self.is_alert else "record"
        return Finding(self.file, self.expr_line if at_expr else self.line, f"lint/{rule}", f"{kind} {self.name}: {message}", fix)


def read_rules(path: Path, shown_as: str) -> tuple[list[FileRule], list[Finding]]:
    """The rules of one file with their lines, or findings saying why the file is not a rule file."""
    try:
        text = path.read_text()
        node = yaml.compose(text, Loader=YAML_LOADER)
        data = read_yaml(text)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Finding(shown_as, 0, "lint/yaml", f"cannot read: {exc}", "make it a readable UTF-8 file")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        return [], [Finding(shown_as, line, "lint/yaml", f"not YAML: {getattr(exc, 'problem', exc)}", "fix the YAML syntax")]
    groups = _child(node, "groups")
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list) or groups is None:
        return [], [Finding(shown_as, 1, "lint/structure", "a rule file is a mapping with a `groups:` list", "put the rules under `groups: [{name: ..., rules: [...]}]`")]
    rules: list[FileRule] = []
    problems: list[Finding] = []
    for group, group_node in zip(data["groups"], groups.value):
        if not isinstance(group, dict) or not isinstance(group.get("rules"), list):
            problems.append(Finding(shown_as, _line(group_node), "lint/structure", "a group has a `name` and a `rules:` list", "add `rules:` to the group"))
            continue
        interval = _duration(group.get("interval"))
        rules_node = _child(group_node, "rules")
        name = str(group.get("name", ""))
        for index, (body, rule_node) in enumerate(zip(group["rules"], rules_node.value if rules_node is not None else []), 1):
            if not isinstance(body, dict):
                problems.append(Finding(shown_as, _line(rule_node), "lint/structure", "a rule is a mapping", "write `- alert: Name` or `- record: name` with an `expr:`"))
                continue
            expr_node = _child(rule_node, "expr")
            expr_line = _line(expr_node) if expr_node else _line(rule_node)
            rules.append(FileRule(shown_as, _line(rule_node), expr_line, name, index, interval, body))
    return rules, problems


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v  # type: ignore[no-any-return]  # PyYAML's stubs type node values as Any
    return None


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 0


def _duration(value: object) -> Duration | None:
    try:
        return Duration.parse(str(value)) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------- the expression, parsed once


@dataclass(frozen=True)
class Threshold:
    """`<side> <op> <value>`, the number on the right (flipped if it was written on the left)."""

    op: str
    value: float
    side: object  # the promql-parser node compared


@dataclass(frozen=True)
class Expression:
    facts: Facts
    thresholds: tuple[Threshold, ...]
    aggregations: frozenset[str]


def _expression(text: str) -> Expression:
    ast = parse(text)
    return Expression(facts(text), tuple(_thresholds(ast)), _aggregations(ast))


def _aggregations(ast: promql_parser.Expr) -> frozenset[str]:
    found: set[str] = set()

    def visit(node: object) -> None:
        if type(node).__name__ == "AggregateExpr":
            found.add(str(getattr(node, "op")))

    promql_parser.walk(ast, pre_visit=visit)
    return frozenset(found)


def _thresholds(node: object) -> Iterator[Threshold]:
    """Comparisons with a number at the top of the expression, through parentheses and and/or/unless."""
    node = _unparen(node)
    if type(node).__name__ != "BinaryExpr":
        return
    op = str(getattr(node, "op"))
    lhs, rhs = _unparen(getattr(node, "lhs")), _unparen(getattr(node, "rhs"))
    if op in SET_OPERATORS:
        yield from _thresholds(lhs)
        yield from _thresholds(rhs)
    elif op in COMPARISONS:
        if type(rhs).__name__ == "NumberLiteral":
            yield Threshold(op, float(getattr(rhs, "val")), lhs)
        elif type(lhs).__name__ == "NumberLiteral":
            yield Threshold(COMPARISONS[op], float(getattr(lhs, "val")), rhs)


def _unparen(node: object) -> object:
    while type(node).__name__ == "ParenExpr":
        node = getattr(node, "expr")
    return node


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _fmt(value: float) -> str:
    return format(value, "g") if not _same(value, round(value)) else str(int(round(value)))


# ---------------------------------------------------------------- the lint rules


@dataclass(frozen=True)
class Context:
    known: Known
    recorded_here: dict[str, Duration]  # series recorded in the files linted -> how often

    def is_recorded(self, series: str) -> bool:
        return series in self.recorded_here or series in self.known.recorded or ":" in series


LintRule = Callable[[FileRule, Expression, Context], Iterable[Finding]]


def rate_over_gauge(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    for function, metric in expr.facts.counter_calls:
        kind = lookup(ctx.known.metrics, metric)
        if kind is not None and not kind.is_counter:
            yield rule.finding(
                "rate-over-gauge", f"{function}() over {metric}, a {kind.metric.type.value}: {function}() is for counters",
                f"read the gauge directly (or deriv()/delta() for its trend) instead of {function}({metric}[...])",
            )


def ratio_vs_absolute_rate(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    if not rule.is_alert:
        return
    for t in expr.thresholds:
        counted = _absolute_count(t.side)
        if counted is not None and 0 < t.value <= 1:
            function, metric = counted
            yield rule.finding(
                "ratio-vs-absolute-rate",
                f"compares the absolute {function}() of {metric} (a count of events, not a share) with {_fmt(t.value)}, a ratio threshold",
                f"divide by the total: sum({function}(<bad events>[w])) / sum({function}(<all events>[w])) {t.op} {_fmt(t.value)}",
            )


def _absolute_count(node: object) -> tuple[str, str] | None:
    """(function, metric) when the value compared is still a plain rate()/increase() of a counter:
    passed on through aggregations, clamps and sums, but not divided by anything."""
    node = _unparen(node)
    kind = type(node).__name__
    if kind == "Call":
        name, args = getattr(getattr(node, "func"), "name"), getattr(node, "args")
        if name in COUNTING_FUNCTIONS and args and type(args[0]).__name__ == "MatrixSelector":
            return name, str(getattr(getattr(args[0], "vector_selector"), "name", "") or "")
        return _absolute_count(args[0]) if name in VALUE_PRESERVING_FUNCTIONS and args else None
    if kind == "AggregateExpr" and str(getattr(node, "op")) in VALUE_PRESERVING_AGGREGATIONS:
        return _absolute_count(getattr(node, "expr"))
    if kind == "BinaryExpr" and str(getattr(node, "op")) in ("+", "-", "or"):
        return _absolute_count(getattr(node, "lhs")) or _absolute_count(getattr(node, "rhs"))
    return None


def unsupported_function(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    newer = sorted((expr.facts.functions - PROMETHEUS_FUNCTIONS) | (expr.aggregations - PROMETHEUS_AGGREGATIONS))
    if newer:
        names = ", ".join(f"{name}()" for name in newer)
        yield rule.finding(
            "unsupported-function", f"{names} not in Prometheus 2.42: the rule group would fail to load",
            f"rewrite without {names} for 2.42, or upgrade Prometheus first",
        )


def quantile_without_le(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    for grouping in expr.facts.quantile_groupings:
        if grouping is not None and "le" not in grouping:
            by = ", ".join(grouping)
            yield rule.finding(
                "quantile-without-le", f"histogram_quantile over an aggregation by ({by}) that drops `le`: it returns nothing",
                f"aggregate by (le{', ' + by if by else ''})",
            )


def unknown_series(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    for series in expr.facts.selectors:
        if not series.metric:
            continue
        kind = lookup(ctx.known.metrics, series.metric)
        if kind is not None:
            allowed: frozenset[str] | None = kind.allowed_labels
        elif series.metric in ctx.recorded_here:
            allowed = None  # its labels depend on the recording expression: not checked
        elif series.metric in ctx.known.recorded:
            allowed = ctx.known.recorded[series.metric]
        elif series.metric in BUILTIN_SERIES:
            allowed = BUILTIN_SERIES[series.metric]
        else:
            yield rule.finding(
                "unknown-metric", f"series {series.metric} is neither in the metric catalog nor recorded by a rule in these files",
                "fix the name, add the metric to the catalog in definitions/, or lint the file that records it too",
            )
            continue
        for label in sorted(series.labels - (allowed or series.labels)):
            yield rule.finding(
                "unknown-label", f"label {label} is not declared for {series.metric} (declared: {', '.join(sorted(allowed or ())) or 'none'})",
                f"use a declared label, or declare {label!r} on the metric in definitions/",
            )


def short_range(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    for series, seconds in expr.facts.range_selectors:
        interval = _sample_interval(series.metric, dict((l, v) for l, op, v in series.matchers if op == "="), ctx)
        if seconds < MIN_SCRAPES_PER_RANGE * interval.seconds:
            window = Duration(MIN_SCRAPES_PER_RANGE * interval.seconds)
            yield rule.finding(
                "short-range", f"range [{Duration(int(seconds))}] over {series.metric} holds fewer than {MIN_SCRAPES_PER_RANGE} samples at its {interval} interval",
                f"use a range of at least {window}",
            )


def _sample_interval(metric: str, equal: dict[str, str], ctx: Context) -> Duration:
    if metric in ctx.recorded_here:
        return ctx.recorded_here[metric]
    if ctx.is_recorded(metric):
        return ctx.known.evaluation_interval
    job = equal.get("job")
    return ctx.known.job_intervals.get(job or "", ctx.known.scrape_interval)


def missing_for(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    if not rule.is_alert or _duration(rule.body.get("for")) is not None:
        return
    raw = sorted({s.metric for s in expr.facts.selectors if s.metric and not ctx.is_recorded(s.metric)})
    if raw:
        yield rule.finding(
            "missing-for", f"no `for:` on an alert over raw series ({', '.join(raw)}): one noisy evaluation pages",
            "add `for: 5m` (long enough to outlast a blip), or alert on a recorded multi-window burn rate", at_expr=False,
        )


def missing_annotations(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    if not rule.is_alert:
        return
    annotations = rule.body.get("annotations") or {}
    for key in REQUIRED_ANNOTATIONS:
        if not (isinstance(annotations, dict) and str(annotations.get(key) or "").strip()):
            yield rule.finding(
                "missing-annotation", f"no `{key}` annotation: whoever is paged needs it",
                f"add annotations.{key}: " + ("<one line saying what is wrong>" if key == "summary" else "<link to the runbook>"),
                at_expr=False,
            )


def slo_threshold(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    yield from _against_declared_alert(rule, expr, ctx)
    yield from _against_latency_slo(rule, expr, ctx)
    yield from _against_slo_numbers(rule, expr, ctx)


def _against_declared_alert(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    """An alert the definitions declare (from the SLO table's alert column) under the same name."""
    declared = ctx.known.alerts.get(rule.name) if rule.is_alert else None
    if declared is None:
        return
    wanted = sorted((t.op, t.value) for t in _thresholds(parse(declared.promql.render())))
    found = sorted((t.op, t.value) for t in expr.thresholds)
    if len(wanted) != len(found) or any(a[0] != b[0] or not _same(a[1], b[1]) for a, b in zip(wanted, found)):
        def show(ts: list[tuple[str, float]]) -> str:
            return ", ".join(f"{op} {_fmt(v)}" for op, v in ts) or "none"

        yield rule.finding(
            "slo-threshold", f"threshold {show(found)} disagrees with the declared {rule.name} ({show(wanted)}, {declared.defined_at})",
            f"use {show(wanted)} as declared, or change the declaration and run `make generate`",
        )


def _against_latency_slo(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    """P<objective> above a value the latency SLO allows: the alert fires while the SLO is met."""
    if not rule.is_alert:
        return
    for t in expr.thresholds:
        side = _unparen(t.side)
        if type(side).__name__ != "Call" or getattr(getattr(side, "func"), "name") != "histogram_quantile" or t.op not in (">", ">="):
            continue
        quantile = _unparen(getattr(side, "args")[0])
        if type(quantile).__name__ != "NumberLiteral":
            continue
        buckets = {s.metric.removesuffix("_bucket") for s in facts(str(side)).selectors if s.metric.endswith("_bucket")}
        for slo in ctx.known.slos:
            indicator = slo.indicator
            if not isinstance(indicator, LatencyIndicator) or indicator.histogram.metric not in buckets:
                continue
            if _same(float(slo.objective_ratio), float(getattr(quantile, "val"))) and t.value < float(indicator.threshold):
                yield rule.finding(
                    "slo-threshold", f"fires at P{_fmt(float(slo.objective))} {t.op} {_fmt(t.value)}s while SLO {slo.name} allows up to {indicator.threshold}s ({slo.defined_at})",
                    f"alert at a P{_fmt(float(slo.objective))} of {indicator.threshold}s or more, or on the SLO's burn rate",
                )


def _against_slo_numbers(rule: FileRule, expr: Expression, ctx: Context) -> Iterator[Finding]:
    """Our own SLO rules (labelled `slo`): objective, error budget and burn factors as declared."""
    slo = next((s for s in ctx.known.slos if s.name == rule.labels.get("slo") and s.service == rule.labels.get("service", s.service)), None)
    if slo is None:
        return
    wanted: float | None = None
    numbers: list[float] = []
    if rule.is_alert and "burn_tier" in rule.labels:
        tier = next((t for t in slo.tiers if t.name == rule.labels["burn_tier"]), None)
        wanted = float(tier.burn_factor(slo.period)) if tier is not None else None
        numbers = [t.value for t in expr.thresholds if str(t.side).startswith(BURN_RATE_PREFIX)]
        what = "burn factor"
    elif rule.name == naming.OBJECTIVE:
        wanted, numbers, what = float(slo.objective_ratio), _numbers(rule.body.get("expr")), "objective"
    elif rule.name.startswith(BURN_RATE_PREFIX):
        wanted, numbers, what = float(slo.error_budget), _numbers(rule.body.get("expr")), "error budget"
    if wanted is None:
        return
    for number in numbers:
        if not _same(number, wanted):
            yield rule.finding(
                "slo-threshold", f"{what} {_fmt(number)} disagrees with SLO {slo.name} ({_fmt(wanted)}, {slo.defined_at})",
                "regenerate the rules from the definitions (`make generate`)",
            )


def _numbers(text: object) -> list[float]:
    found: list[float] = []

    def visit(n: object) -> None:
        if type(n).__name__ == "NumberLiteral":
            found.append(float(getattr(n, "val")))

    promql_parser.walk(parse(str(text)), pre_visit=visit)
    return found


LINT_RULES: tuple[LintRule, ...] = (
    rate_over_gauge,
    ratio_vs_absolute_rate,
    quantile_without_le,
    unsupported_function,
    unknown_series,
    short_range,
    missing_for,
    missing_annotations,
    slo_threshold,
)


# ---------------------------------------------------------------- entry points


def lint_files(paths: Sequence[Path], known: Known, shown_as: Callable[[Path], str] = str) -> list[Finding]:
    """Lint rule files together: a series recorded in one may be read in another."""
    rules: list[FileRule] = []
    findings: list[Finding] = []
    for path in paths:
        read, problems = read_rules(path, shown_as(path))
        rules += read
        findings += problems
    recorded_here = {
        r.name: r.group_interval or known.evaluation_interval for r in rules if not r.is_alert and r.name
    }
    ctx = Context(known, recorded_here)
    for rule in rules:
        findings += lint_rule(rule, ctx)
    return sorted(set(findings))


def lint_rule(rule: FileRule, ctx: Context) -> list[Finding]:
    text = rule.body.get("expr")
    if not isinstance(text, (str, int, float)) or not str(text).strip():
        return [rule.finding("syntax", "no `expr:`", "give the rule a PromQL expression", at_expr=False)]
    try:
        expr = _expression(str(text))
    except PromQLSyntaxError as exc:
        return [rule.finding("syntax", f"PromQL does not parse: {exc}", "fix the expression (promtool check rules shows the position)")]
    return [finding for check in LINT_RULES for finding in check(rule, expr, ctx)]


def lint_system_dir(system: System, system_dir: Path) -> list[Finding]:
    """The gate's lint check: every rule file generated for `system`."""
    files = sorted((system_dir / "prometheus" / "rules").glob("*.yml"))
    return lint_files(files, Known.of([system]))
