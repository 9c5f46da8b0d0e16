"""A stand-in for the Claude Code Bot API: instrumented with `ccb_observe.instruments` built from
the seed's catalog, serving `/metrics` on 127.0.0.1, and driving its own request traffic at a fixed
rate so a scenario's numbers do not depend on a load generator or the machine's speed.

Modes (GET /control shows the mode, POST /control with the mode's name as body switches it; a
body `postgres=down` or `redis=down` (`=up`) sets that exporter's health gauge):
  idle     no traffic at all (the service is up: its scrapes succeed)
  healthy  every request 200 in 50 ms
  outage   every request 500
  slow     every request 200 in 750 ms: over the 500 ms latency SLO, under the 1 s alert

Request durations are observed as declared by the mode, not slept: the traffic stays at its rate
whatever the mode. Stand-ins for the PostgreSQL and Redis exporters serve their catalog metrics
on ports of their own (health gauges `pg_up`, `redis_up` at 1 unless set down), so each job of
the generated scrape config has a target.

    python tests/e2e/demo_service.py --port 8000 --mode healthy
"""

from __future__ import annotations

import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ccb_observe.instruments import build_instruments
from ccb_observe.model import System

# mode -> (HTTP status, seconds) of each request; None: no requests.
MODES: dict[str, tuple[str, float] | None] = {
    "idle": None,
    "healthy": ("200", 0.05),
    "outage": ("500", 0.05),
    "slow": ("200", 0.75),
}
HANDLER = "/api/v1/integrations"
# Who serves which catalog metric: the API its own (`source` ""), and stand-ins for the exporters
# whose health gauges the rules read. `up` is Prometheus' own; cAdvisor and kube-state-metrics
# series are served by nobody here.
EXPORTERS = {"postgres": "postgres_exporter", "redis": "redis_exporter"}
SOURCES = {"api": "", **EXPORTERS}
HEALTH = {"postgres": "pg_up", "redis": "redis_up"}  # the gauge each exporter sets to 0 when its server is down


class DemoService:
    """The API (with /control) and the exporter stand-ins, each on its own loopback port, so that
    each scrape job of the generated config reads only its own target's series."""

    def __init__(self, system: System, mode: str = "idle", rate: float = 10.0, port: int = 0) -> None:
        self.registries = {name: CollectorRegistry() for name in ("api", *EXPORTERS)}
        self.instruments = {
            name: build_instruments(system, registry, source=SOURCES[name])
            for name, registry in self.registries.items()
        }
        for exporter in EXPORTERS:
            self.dependency(exporter, up=True)
        self.period = 1 / rate
        self.mode = self._checked(mode)
        self.requests = 0
        self._stopped = threading.Event()
        self._servers = {
            name: ThreadingHTTPServer(("127.0.0.1", port if name == "api" else 0), self._handler(name))
            for name in self.registries
        }
        self.addresses = {name: f"127.0.0.1:{server.server_address[1]}" for name, server in self._servers.items()}
        self.address = self.addresses["api"]
        # shutdown() waits for the loop's next poll: a short one keeps stopping quick.
        self._threads = [threading.Thread(target=server.serve_forever, args=(0.05,), name=f"demo-{name}", daemon=True)
                         for name, server in self._servers.items()]
        self._threads.append(threading.Thread(target=self._traffic, name="demo-traffic", daemon=True))

    def start(self) -> "DemoService":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    def switch(self, mode: str) -> None:
        self.mode = self._checked(mode)

    def dependency(self, exporter: str, up: bool) -> None:
        """What the exporter stand-in reports: `<name>_up` 1 or 0."""
        if exporter not in EXPORTERS:
            raise ValueError(f"unknown dependency {exporter!r} (one of {', '.join(EXPORTERS)})")
        self.instruments[exporter].gauge(HEALTH[exporter]).set(1 if up else 0)

    def control(self, command: str) -> None:
        """A mode name, or `<dependency>=up|down` (postgres=down)."""
        name, sep, state = command.partition("=")
        if not sep:
            return self.switch(command)
        if state not in ("up", "down"):
            raise ValueError(f"{command!r}: a dependency is up or down")
        self.dependency(name, state == "up")

    def serve_one(self) -> None:
        """One API request, as the mode answers it."""
        answer = MODES[self.mode]
        if answer is None:
            return
        status, seconds = answer
        api = self.instruments["api"]
        api.counter("http_requests_total").labels(method="POST", handler=HANDLER, status=status).inc()
        api.histogram("http_request_duration_seconds").labels(method="POST", handler=HANDLER).observe(seconds)
        self.requests += 1

    def _traffic(self) -> None:
        while not self._stopped.wait(self.period):
            self.serve_one()

    @staticmethod
    def _checked(mode: str) -> str:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r} (one of {', '.join(MODES)})")
        return mode

    def _handler(self, component: str) -> type[BaseHTTPRequestHandler]:
        service = self
        registry = self.registries[component]
        controls = component == "api"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif self.path == "/control" and controls:
                    self._reply(200, service.mode.encode())
                else:
                    self._reply(404, b"not found")

            def do_POST(self) -> None:
                if self.path != "/control" or not controls:
                    return self._reply(404, b"not found")
                command = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode().strip()
                try:
                    service.control(command)
                except ValueError as exc:
                    return self._reply(400, str(exc).encode())
                self._reply(200, command.encode())

            def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--mode", choices=sorted(MODES), default="healthy")
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second")
    args = parser.parse_args()
    from ccb_observe.loader import load_systems

    (system,) = load_systems(Path(__file__).resolve().parents[2] / "definitions")
    service = DemoService(system, args.mode, args.rate, args.port).start()
    for name, address in service.addresses.items():
        print(f"{name}: http://{address}/metrics", file=sys.stderr)
    print(f"mode {service.mode}; POST a mode or postgres=down to http://{service.address}/control", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        service.stop()


if __name__ == "__main__":
    main()
