"""Run a system's generated monitoring stack for real, on loopback: the Debian `prometheus` and
`prometheus-alertmanager` binaries fed the generated files, with what must differ in a test
applied by code, never by hand-edited copies.

The test profile (`E2EProfile`) and its overlay, applied to the compiled files:
- prometheus.yml: every interval becomes the profile's (1 s); each static job scrapes the loopback
  address the profile gives it, and jobs it gives none (Kubernetes discovery, which Debian's
  Prometheus lacks) are dropped; Prometheus sends to the profile's Alertmanager.
- rule files: every group is evaluated at the profile's interval (a group's own `interval` is
  dropped, as `promtool test rules` does), and every `for` becomes the profile's. Expressions,
  labels and annotations are kept byte for byte. Bucket groups then overlap instead of tiling:
  their absolute sums grow, every ratio read from them (long windows, budget left) stays exact.
- alertmanager.yml: group timings become the profile's; Slack, PagerDuty (Events API `url`) and
  webhook receivers post to the profile's sink; e-mail goes to the profile's smarthost; every
  secret file is moved into the profile's secrets directory (`secret_files` says what to write).
  Routes, matchers, inhibitions, time intervals and templates are kept as generated.

`Stack` starts both programs on free loopback ports with temporary data directories, stops them
by PID (also on failure, with atexit as the backstop) and bounds every wait.
"""

from __future__ import annotations

import atexit
import copy
import json
import os
import posixpath
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, TypeVar

import yaml

from .compile import alertmanager as am
from .compile import compile_system
from .compile import rules, scrape
from .durations import Duration
from .model import System
from .output import Output, to_yaml, write_tree
from .validate.tools import find_tool

PROMETHEUS_CONFIG = scrape.CONFIG_PATH
ALERTMANAGER_CONFIG = am.CONFIG

T = TypeVar("T")


# ---------------------------------------------------------------- the test profile


@dataclass(frozen=True)
class E2EProfile:
    """What differs when a generated stack runs in a test, and nothing else."""

    targets: Mapping[str, str]  # scrape job -> host:port on loopback; other jobs are dropped
    alertmanager: str  # host:port Prometheus sends alerts to
    sink: str  # base URL every notification is posted to
    secrets_dir: str  # absolute directory holding the test's secret files
    interval: Duration = Duration(1)  # scrape and rule evaluation
    alert_for: Duration = Duration(2)  # every alert's `for`
    # A faster burn tier may fire an evaluation after a slower one (its 5m ratio reads a series
    # another group records): group_wait must span a few evaluations, as 30s does over 15s.
    group_wait: Duration = Duration(5)
    group_interval: Duration = Duration(5)
    repeat_interval: Duration = Duration(3600)  # no repeats during a run
    smarthost: str = "127.0.0.1:9"  # nobody listens: e-mail fails fast and stays local


def overlay_prometheus(config: Mapping[str, Any], profile: E2EProfile) -> dict[str, Any]:
    out = copy.deepcopy(dict(config))
    out["global"] = {**out.get("global", {}), "scrape_interval": str(profile.interval), "evaluation_interval": str(profile.interval)}
    out["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [profile.alertmanager]}]}]}
    jobs = []
    for job in out.get("scrape_configs", []):
        if job["job_name"] not in profile.targets:
            continue
        job.pop("kubernetes_sd_configs", None)
        job["static_configs"] = [{"targets": [profile.targets[job["job_name"]]]}]
        if "scrape_interval" in job:
            job["scrape_interval"] = str(profile.interval)
        jobs.append(job)
    out["scrape_configs"] = jobs
    return out


def overlay_rules(rule_file: Mapping[str, Any], profile: E2EProfile) -> dict[str, Any]:
    out = copy.deepcopy(dict(rule_file))
    for group in out["groups"]:
        group.pop("interval", None)
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = str(profile.alert_for)
    return out


def overlay_alertmanager(config: Mapping[str, Any], profile: E2EProfile) -> dict[str, Any]:
    out = copy.deepcopy(dict(config))
    _retime(out["route"], profile)
    for holder, key, _ in _secret_references(out):
        holder[key] = posixpath.join(profile.secrets_dir, posixpath.basename(holder[key]))
    for receiver in out.get("receivers", []):
        for pager in receiver.get("pagerduty_configs", []):
            pager["url"] = f"{profile.sink}/pagerduty/{receiver['name']}"
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = f"{profile.sink}/webhook/{receiver['name']}"
        for mail in receiver.get("email_configs", []):
            mail["smarthost"] = profile.smarthost
            mail["require_tls"] = False
    return out


def secret_files(config: Mapping[str, Any], profile: E2EProfile) -> dict[str, str]:
    """Absolute path -> content of every secret an overlaid alertmanager.yml reads: the Slack
    webhook URL points at the sink, keys and passwords are placeholders."""
    files: dict[str, str] = {}
    for holder, key, content in _secret_references(config):
        text = content.format(sink=profile.sink)
        if files.setdefault(holder[key], text) != text:
            raise ValueError(f"two different secrets would share {holder[key]} (their file names are equal)")
    return files


def _secret_references(config: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(the mapping holding a secret file's path, its key, what the test's file holds) for each."""
    for receiver in config.get("receivers", []):
        for slack in receiver.get("slack_configs", []):
            yield slack, "api_url_file", "{sink}/slack"
        for pager in receiver.get("pagerduty_configs", []):
            yield pager, "routing_key_file", "e2e-routing-key"
        for hook in receiver.get("webhook_configs", []):
            authorization = hook.get("http_config", {}).get("authorization", {})
            if "credentials_file" in authorization:
                yield authorization, "credentials_file", "e2e-token"
        for mail in receiver.get("email_configs", []):
            if "auth_password_file" in mail:
                yield mail, "auth_password_file", "e2e-password"


def overlay(output: Output, profile: E2EProfile) -> Output:
    """One system's compiled files (paths as `compile.TARGETS` write them) with the profile applied
    to prometheus.yml, the rule files and alertmanager.yml; every other file as it was."""
    out = dict(output)
    out[PROMETHEUS_CONFIG] = to_yaml(overlay_prometheus(_load(output, PROMETHEUS_CONFIG), profile))
    for path in output:
        if path.startswith(rules.RULES_DIR + "/"):
            out[path] = to_yaml(overlay_rules(_load(output, path), profile))
    if ALERTMANAGER_CONFIG in output:
        out[ALERTMANAGER_CONFIG] = to_yaml(overlay_alertmanager(_load(output, ALERTMANAGER_CONFIG), profile))
    return out


def system_output(system: System) -> Output:
    """One system's compiled files, by their path under generated/<system>/."""
    prefix = system.name + "/"
    return {path.removeprefix(prefix): content for path, content in compile_system(system).items()}


def static_jobs(output: Output) -> list[str]:
    """The scrape jobs of the generated prometheus.yml that list static targets."""
    return [job["job_name"] for job in _load(output, PROMETHEUS_CONFIG)["scrape_configs"] if "static_configs" in job]


def _retime(node: dict[str, Any], profile: E2EProfile, root: bool = True) -> None:
    """The root gets all three timings (it holds the defaults); a child only those it overrides."""
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if root or key in node:
            node[key] = str(getattr(profile, key))
    for child in node.get("routes", []):
        _retime(child, profile, root=False)


def _load(output: Output, path: str) -> dict[str, Any]:
    data = yaml.safe_load(output[path])
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


# ---------------------------------------------------------------- processes, by PID

_RUNNING: dict[int, subprocess.Popen[bytes]] = {}


def _stop_all_at_exit() -> None:
    stop(*_RUNNING.values())


atexit.register(_stop_all_at_exit)


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    _RUNNING[process.pid] = process
    return process


def stop(*processes: subprocess.Popen[bytes], grace: float = 10) -> None:
    """SIGTERM to each PID (all at once: they shut down side by side), SIGKILL to any still there
    after `grace` seconds."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=grace)
    for process in processes:
        _RUNNING.pop(process.pid, None)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port free now and not handed out before (a closed probe socket's port can come
    back at once, and two stacks starting side by side must not race for it)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


class WaitTimeout(AssertionError):
    pass


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.25) -> T:
    """`probe()` until it returns something true (a non-empty list, True, …); fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            value = probe()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:
            last_error = f" (last error: {exc})"
        if time.monotonic() > deadline:
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what}{last_error}")
        time.sleep(every)


def get_json(url: str, timeout: float = 5) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


# ---------------------------------------------------------------- the notification sink


@dataclass(frozen=True)
class Post:
    path: str  # /slack, /pagerduty/<receiver>, /webhook/<receiver>
    body: Any  # the JSON Alertmanager posted


class WebhookSink:
    """A loopback HTTP server recording every JSON body posted to it (Slack's incoming webhook,
    PagerDuty's Events API v2 and Alertmanager webhooks all answer 2xx here)."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                with sink._lock:
                    sink.posts.append(Post(self.path, body))
                reply = b'{"status":"success","message":"Event processed"}' if self.path.startswith("/pagerduty") else b"ok"
                self.send_response(202 if self.path.startswith("/pagerduty") else 200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # shutdown() waits for the loop's next poll: keep it short, tests close many sinks.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="webhook-sink", daemon=True)
        self._thread.start()

    def received(self) -> list[Post]:
        with self._lock:
            return list(self.posts)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ---------------------------------------------------------------- the stack


@dataclass
class Stack:
    """Prometheus and Alertmanager running one system's overlaid generated files."""

    workdir: Path
    output: Output  # one system's compiled files, not yet overlaid
    targets: Mapping[str, str]
    sink: WebhookSink
    profile: E2EProfile = field(init=False)
    prometheus_url: str = field(init=False)
    alertmanager_url: str = field(init=False)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        am_port, prom_port = free_port(), free_port()
        self.alertmanager_url = f"http://127.0.0.1:{am_port}"
        self.prometheus_url = f"http://127.0.0.1:{prom_port}"
        self.profile = E2EProfile(
            targets=dict(self.targets), alertmanager=f"127.0.0.1:{am_port}", sink=self.sink.url,
            secrets_dir=str(self.workdir / "secrets"),
        )

    @property
    def config_dir(self) -> Path:
        return self.workdir / "generated"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Write the overlaid files and the secrets, and start both programs (without waiting)."""
        files = overlay(self.output, self.profile)
        write_tree(files, self.config_dir)
        for path, content in secret_files(yaml.safe_load(files[ALERTMANAGER_CONFIG]), self.profile).items():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(content)
        alertmanager = find_tool("prometheus-alertmanager")
        prometheus = find_tool("prometheus")
        self.processes.append(start([
            alertmanager, f"--config.file={self.config_dir / ALERTMANAGER_CONFIG}",
            f"--storage.path={self.workdir / 'alertmanager-data'}",
            f"--web.listen-address={self.profile.alertmanager}", "--cluster.listen-address=",
        ], self.workdir / "alertmanager.log"))
        self.processes.append(start([
            prometheus, f"--config.file={self.config_dir / PROMETHEUS_CONFIG}",
            f"--storage.tsdb.path={self.workdir / 'prometheus-data'}",
            f"--web.listen-address={self.prometheus_url.removeprefix('http://')}",
            f"--rules.alert.resend-delay={self.profile.interval}",
        ], self.workdir / "prometheus.log"))

    def wait_ready(self, timeout: float = 60) -> None:
        """Both answer, and Prometheus sends to Alertmanager (alerts fired before that are dropped)."""
        self.wait(f"Alertmanager to be ready at {self.alertmanager_url}", lambda: self._ready(self.alertmanager_url), timeout)
        self.wait(f"Prometheus to be ready at {self.prometheus_url}", lambda: self._ready(self.prometheus_url), timeout)
        self.wait("Prometheus to discover its Alertmanager", self._alertmanager_known, timeout)

    def stop(self) -> None:
        stop(*self.processes)

    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- Prometheus' and Alertmanager's HTTP APIs

    def api(self, path: str, **params: str) -> Any:
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        reply = get_json(f"{self.prometheus_url}/api/v1/{path}{query}")
        assert reply["status"] == "success", reply
        return reply["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        result = self.api("query", query=promql)["result"]
        assert isinstance(result, list)
        return result

    def rule_groups(self) -> list[dict[str, Any]]:
        groups = self.api("rules")["groups"]
        assert isinstance(groups, list)
        return groups

    def targets_now(self) -> list[dict[str, Any]]:
        active = self.api("targets")["activeTargets"]
        assert isinstance(active, list)
        return active

    def firing(self) -> list[dict[str, str]]:
        """Labels of the alerts Prometheus has firing now."""
        return [a["labels"] for a in self.api("alerts")["alerts"] if a["state"] == "firing"]

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        alerts = get_json(f"{self.alertmanager_url}/api/v2/alerts")
        assert isinstance(alerts, list)
        return alerts

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(self.workdir.glob("*.log")))

    # -- waiting

    def wait(self, what: str, probe: Callable[[], T | None], timeout: float) -> T:
        """`probe()` until it answers, failing with both programs' logs when it does not in time
        or when one of them exits."""

        def alive_and(probe_: Callable[[], T | None] = probe) -> T | None:
            self._check_alive()
            return probe_()

        try:
            return wait_for(what, alive_and, timeout)
        except WaitTimeout as exc:
            raise WaitTimeout(f"{exc}\n{self.logs()}") from None

    def _check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise AssertionError(f"{process.args!r} exited with {process.returncode}:\n{self.logs()}")

    @staticmethod
    def _ready(url: str) -> bool:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
            return bool(response.status == 200)

    def _alertmanager_known(self) -> bool:
        active = self.api("alertmanagers")["activeAlertmanagers"]
        return any(a["url"].startswith(self.alertmanager_url) for a in active)
