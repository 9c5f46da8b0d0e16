"""Who hears about which alert: receivers (Slack, PagerDuty, e-mail, webhook), the routing tree,
named time intervals, and the dependencies whose outage explains other alerts (inhibitions).

Secrets never live in the model: integrations take the path of a file that holds them
(`api_url_file`, `routing_key_file`, `auth_password_file`, `credentials_file`), and anything that
looks like the secret itself is refused.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from typing import Iterator, Mapping, Union

from ..durations import Duration, DurationLike
from ..errors import DefinitionError, Location
from ..promql import LABEL_NAME_RE, Matcher, MatchValue, make_matchers
from ..naming import is_slug
from .base import defined_here, duration_of, set_field

# ---------------------------------------------------------------- secrets

_URL_USERINFO_RE = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@]*:[^/@]*@", re.IGNORECASE)
_SECRET_QUERY_RE = re.compile(r"[?&](token|key|secret|password|passwd|sig|signature|api_key|apikey)=", re.IGNORECASE)
_SECRET_HOSTS = ("hooks.slack.com/services/", "events.pagerduty.com/integration/")


def _inline_secret(where: Location, what: str, field_name: str, value: str) -> None:
    if value:
        raise DefinitionError(where, what, f"{field_name} is an inline secret: write it to a file and give {field_name}_file")


def _check_secret_file(where: Location, what: str, field_name: str, path: str, required: bool = True) -> None:
    """A `*_file` field holds the path of the file with the secret, never the secret."""
    if not path:
        if required:
            raise DefinitionError(where, what, f"{field_name} is required (the path of the file holding the secret)")
        return
    if "://" in path or not path.startswith("/") or any(ch.isspace() for ch in path):
        raise DefinitionError(where, what, f"{field_name} must be an absolute file path; {path[:12]!r}… looks like the secret itself")


def _check_not_secret(where: Location, what: str, field_name: str, value: str) -> None:
    """Plain fields (URLs, channels, addresses) must not smuggle a credential."""
    if _URL_USERINFO_RE.match(value) or _SECRET_QUERY_RE.search(value) or any(h in value for h in _SECRET_HOSTS):
        raise DefinitionError(where, what, f"{field_name} carries a credential inline: keep it in a file (a *_file field)")


def _check_plain(where: Location, what: str, field_name: str, value: str) -> None:
    if not value.strip():
        raise DefinitionError(where, what, f"{field_name} is required")
    if any(ord(ch) < 0x20 for ch in value):
        raise DefinitionError(where, what, f"{field_name} must not hold control characters")
    _check_not_secret(where, what, field_name, value)


# ---------------------------------------------------------------- integrations


@dataclass(frozen=True)
class Slack:
    channel: str  # '#ccb-incidents'
    api_url_file: str = ""  # the file holding the incoming-webhook URL
    send_resolved: bool = True
    api_url: str = ""  # refused: the webhook URL is a secret
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"Slack integration {self.channel!r}"
        _inline_secret(where, what, "api_url", self.api_url)
        _check_secret_file(where, what, "api_url_file", self.api_url_file)
        _check_plain(where, what, "channel", self.channel)


@dataclass(frozen=True)
class PagerDuty:
    routing_key_file: str = ""  # the file holding the Events API v2 integration key
    send_resolved: bool = True
    routing_key: str = ""  # refused: the key is a secret
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, "PagerDuty integration"
        _inline_secret(where, what, "routing_key", self.routing_key)
        _check_secret_file(where, what, "routing_key_file", self.routing_key_file)


@dataclass(frozen=True)
class Email:
    to: str
    sender: str  # the From: address
    smarthost: str  # host:port
    auth_username: str = ""
    auth_password_file: str = ""
    require_tls: bool = True
    send_resolved: bool = True
    auth_password: str = ""  # refused: the password is a secret
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"e-mail integration to {self.to!r}"
        _inline_secret(where, what, "auth_password", self.auth_password)
        for name in ("to", "sender", "smarthost"):
            _check_plain(where, what, name, getattr(self, name))
        if not re.match(r"^[^\s:]+:\d+$", self.smarthost):
            raise DefinitionError(where, what, "smarthost is host:port")
        _check_secret_file(where, what, "auth_password_file", self.auth_password_file, required=bool(self.auth_username))


@dataclass(frozen=True)
class Webhook:
    """A JSON POST to `url`. Alertmanager 0.25 has no `url_file`, so the URL itself must not be
    secret: authenticate with a bearer token read from `credentials_file`."""

    url: str
    credentials_file: str = ""
    max_alerts: int = 0  # 0: all
    send_resolved: bool = True
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"webhook {self.url!r}"
        _check_plain(where, what, "url", self.url)
        if not re.match(r"^https?://[^\s/]+", self.url):
            raise DefinitionError(where, what, "url is an http(s) URL")
        _check_secret_file(where, what, "credentials_file", self.credentials_file, required=False)
        if self.max_alerts < 0:
            raise DefinitionError(where, what, "max_alerts is 0 (all) or a positive count")


Integration = Union[Slack, PagerDuty, Email, Webhook]


@dataclass(frozen=True)
class Receiver:
    """A named set of integrations. A receiver without any is a sink: what ends only there reaches
    nobody, which the compiler refuses."""

    name: str
    integrations: tuple[Integration, ...] = ()
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        if not is_slug(self.name):
            raise DefinitionError(self.defined_at, f"receiver {self.name!r}", "a receiver name is lower-case words joined by '-'")
        set_field(self, "integrations", tuple(self.integrations))

    @property
    def notifies(self) -> bool:
        return bool(self.integrations)


def receiver(name: str, *integrations: Integration) -> Receiver:
    return Receiver(name, integrations)


# ---------------------------------------------------------------- time intervals

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_CLOCK_RE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


@dataclass(frozen=True)
class TimeInterval:
    """A named weekly window, e.g. business hours: weekdays 'monday:friday', times 09:00–17:00."""

    name: str
    weekdays: tuple[str, ...] = ()  # 'monday' or ranges 'monday:friday'
    times: tuple[tuple[str, str], ...] = ()  # (start, end) as HH:MM, end exclusive
    location: str = "UTC"  # an IANA time zone
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"time interval {self.name!r}"
        if not is_slug(self.name):
            raise DefinitionError(where, what, "a time interval name is lower-case words joined by '-'")
        set_field(self, "weekdays", tuple(self.weekdays))
        set_field(self, "times", tuple((str(a), str(b)) for a, b in self.times))
        if not self.weekdays and not self.times:
            raise DefinitionError(where, what, "give weekdays, times or both")
        for spec in self.weekdays:
            days = spec.split(":")
            if len(days) > 2 or any(d not in WEEKDAYS for d in days) or WEEKDAYS.index(days[0]) > WEEKDAYS.index(days[-1]):
                raise DefinitionError(where, what, f"weekday {spec!r}: a lower-case day name or a range 'monday:friday' (sunday first)")
        for start, end in self.times:
            if not (_CLOCK_RE.match(start) and _CLOCK_RE.match(end)) or not start < end or end > "24:00":
                raise DefinitionError(where, what, f"times ({start!r}, {end!r}): HH:MM pairs, start before end")
        try:
            zoneinfo.ZoneInfo(self.location)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise DefinitionError(where, what, f"location {self.location!r} is not an IANA time zone") from None


# ---------------------------------------------------------------- routes


@dataclass(frozen=True)
class Route:
    """A node of the routing tree. An alert enters it when every matcher holds; it goes on to the
    first child it matches (and past it while that child says `continue_`), or stays here."""

    receiver: str
    match: Mapping[str, MatchValue] | tuple[Matcher, ...] = ()  # {"severity": "critical"}
    routes: tuple["Route", ...] = ()
    continue_: bool = False
    group_by: tuple[str, ...] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"route to {self.receiver!r}"
        match = self.match
        try:
            matchers = make_matchers(match) if isinstance(match, Mapping) else tuple(match)
        except ValueError as exc:
            raise DefinitionError(where, what, str(exc)) from None
        for m in matchers:
            if any(ord(ch) < 0x20 for ch in m.value):
                raise DefinitionError(where, what, f"matcher on {m.label!r}: no control characters in values")
        set_field(self, "match", matchers)
        set_field(self, "routes", tuple(self.routes))
        for name in ("mute_time_intervals", "active_time_intervals"):
            set_field(self, name, tuple(getattr(self, name)))
        if self.group_by is not None:
            set_field(self, "group_by", tuple(self.group_by))
            for label in self.group_by:
                if label != "..." and not LABEL_NAME_RE.match(label):
                    raise DefinitionError(where, what, f"group_by: {label!r} is not a label name")
        for name in ("group_wait", "group_interval", "repeat_interval"):
            set_field(self, name, duration_of(where, what, getattr(self, name), name))

    @property
    def matchers(self) -> tuple[Matcher, ...]:
        return self.match  # type: ignore[return-value]  # normalised in __post_init__

    def accepts(self, labels: Mapping[str, str]) -> bool:
        return all(_holds(m, labels.get(m.label, "")) for m in self.matchers)

    def walk(self, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], "Route"]]:
        """Every node with its path of child indices from here (the root's path is ())."""
        yield path, self
        for index, child in enumerate(self.routes):
            yield from child.walk((*path, index))


def _holds(m: Matcher, value: str) -> bool:
    # Alertmanager's regexes are anchored at both ends, like fullmatch.
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    found = re.fullmatch(m.value, value) is not None
    return found if m.op == "=~" else not found


def route(
    receiver: str,
    *routes: Route,
    match: Mapping[str, MatchValue] | None = None,
    continue_: bool = False,
    group_by: tuple[str, ...] | list[str] | None = None,
    group_wait: DurationLike | None = None,
    group_interval: DurationLike | None = None,
    repeat_interval: DurationLike | None = None,
    mute_time_intervals: tuple[str, ...] | list[str] = (),
    active_time_intervals: tuple[str, ...] | list[str] = (),
) -> Route:
    return Route(
        receiver, dict(match or {}), tuple(routes), continue_,
        tuple(group_by) if group_by is not None else None,
        group_wait, group_interval, repeat_interval,  # type: ignore[arg-type]
        tuple(mute_time_intervals), tuple(active_time_intervals),
    )


# ---------------------------------------------------------------- dependencies


@dataclass(frozen=True)
class Dependency:
    """Something the service needs (a database, a cache). While its `outage` alert fires, the
    `symptoms` it causes (alert names or SLO names) are inhibited for the same `equal` labels."""

    name: str
    outage: str  # alert name, e.g. PostgresDown
    symptoms: tuple[str, ...]  # alert names (CamelCase) and/or SLO names (slugs)
    equal: tuple[str, ...] = ("service",)
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, f"dependency {self.name!r}"
        set_field(self, "symptoms", tuple(self.symptoms))
        set_field(self, "equal", tuple(self.equal))
        if not self.symptoms:
            raise DefinitionError(where, what, "name the symptoms its outage causes")
        if self.outage in self.symptoms:
            raise DefinitionError(where, what, "the outage alert cannot be its own symptom")
        if not self.equal or any(not LABEL_NAME_RE.match(label) for label in self.equal):
            raise DefinitionError(where, what, "equal lists the label names source and symptom share (e.g. service)")


# ---------------------------------------------------------------- the policy

DEFAULT_GROUP_BY = ("alertname", "service", "slo")


@dataclass(frozen=True)
class Routing:
    receivers: tuple[Receiver, ...]
    route: Route  # the root: its receiver gets what no child takes
    time_intervals: tuple[TimeInterval, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    resolve_timeout: Duration = Duration(300)
    defined_at: Location = defined_here()

    def __post_init__(self) -> None:
        where, what = self.defined_at, "routing"
        for name in ("receivers", "time_intervals", "dependencies"):
            set_field(self, name, tuple(getattr(self, name)))
        set_field(self, "resolve_timeout", duration_of(where, what, self.resolve_timeout, "resolve_timeout"))
        root = self.route
        if root.matchers or root.continue_:
            raise DefinitionError(root.defined_at, "root route", "the root route takes every alert: no matchers, no continue")
        receivers = _unique_names("receiver", self.receivers)
        intervals = _unique_names("time interval", self.time_intervals)
        _unique_names("dependency", self.dependencies)
        used: set[str] = set()
        for _, node in root.walk():
            if node.receiver not in receivers:
                known = ", ".join(sorted(receivers)) or "none"
                raise DefinitionError(node.defined_at, f"route to {node.receiver!r}", f"unknown receiver (declared: {known})")
            used.add(node.receiver)
            for name in (*node.mute_time_intervals, *node.active_time_intervals):
                if name not in intervals:
                    raise DefinitionError(node.defined_at, f"route to {node.receiver!r}", f"unknown time interval {name!r}")
        for r in self.receivers:
            if r.name not in used:
                raise DefinitionError(r.defined_at, f"receiver {r.name!r}", "no route sends alerts to it: route to it or remove it")

    def check_names(self, alerts: set[str], slos: set[str]) -> None:
        """Dependencies name alerts and SLOs of the system they belong to."""
        for dep in self.dependencies:
            where, what = dep.defined_at, f"dependency {dep.name!r}"
            if dep.outage not in alerts:
                raise DefinitionError(where, what, f"outage alert {dep.outage!r} is not an alert of the system")
            for symptom in dep.symptoms:
                if symptom not in alerts and symptom not in slos:
                    raise DefinitionError(where, what, f"symptom {symptom!r} is neither an alert nor an SLO of the system")


def _unique_names(kind: str, items: tuple[object, ...]) -> set[str]:
    seen: dict[str, Location] = {}
    for item in items:
        name, where = getattr(item, "name"), getattr(item, "defined_at")
        if name in seen:
            raise DefinitionError(where, f"{kind} {name!r}", f"duplicate name (first defined at {seen[name]})")
        seen[name] = where
    return set(seen)
