"""A stand-in for the Claude Code Bot API: instrumented with `ccb_observe.instruments` built from
the seed's catalog, serving `/metrics` on 127.0.0.1, and driving its own request traffic at a fixed
rate so a scenario's numbers do not depend on a load generator or the machine's speed.

Modes (GET /control shows the mode, POST /control with the mode's name as body switches it):
  idle     no traffic at all (the service is up: its scrapes succeed)
  healthy  every request 200 in 50 ms
  outage   every request 500
  slow     every request 200 in 750 ms: over the 500 ms latency SLO, under the 1 s alert

Request durations are observed as declared by the mode, not slept: the traffic stays at its rate
whatever the mode. The exporters' health gauges (`pg_up`, `redis_up`) are served as 1, so the
postgresql and redis jobs of the generated scrape config can point here. `up` is left out: it is
in the catalog (the rules read it) but Prometheus writes it, and an exposed `up 0` overrides it.

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
# Catalogued, but written by Prometheus for each target: a scraped `up 0` would mask the real one.
WRITTEN_BY_PROMETHEUS = frozenset({"up"})


class DemoService:
    def __init__(self, system: System, mode: str = "idle", rate: float = 10.0, port: int = 0) -> None:
        self.registry = CollectorRegistry()
        own = [m for m in system.metrics if m.name not in WRITTEN_BY_PROMETHEUS]
        self.instruments = build_instruments(own, self.registry)
        self.instruments.gauge("pg_up").set(1)
        self.instruments.gauge("redis_up").set(1)
        self.period = 1 / rate
        self.mode = self._checked(mode)
        self.requests = 0
        self._stopped = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="demo-http", daemon=True),
            threading.Thread(target=self._traffic, name="demo-traffic", daemon=True),
        ]

    def start(self) -> "DemoService":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def switch(self, mode: str) -> None:
        self.mode = self._checked(mode)

    def serve_one(self) -> None:
        """One API request, as the mode answers it."""
        answer = MODES[self.mode]
        if answer is None:
            return
        status, seconds = answer
        self.instruments.counter("http_requests_total").labels(method="POST", handler=HANDLER, status=status).inc()
        self.instruments.histogram("http_request_duration_seconds").labels(method="POST", handler=HANDLER).observe(seconds)
        self.requests += 1

    def _traffic(self) -> None:
        while not self._stopped.wait(self.period):
            self.serve_one()

    @staticmethod
    def _checked(mode: str) -> str:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r} (one of {', '.join(MODES)})")
        return mode

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._reply(200, generate_latest(service.registry), CONTENT_TYPE_LATEST)
                elif self.path == "/control":
                    self._reply(200, service.mode.encode())
                else:
                    self._reply(404, b"not found")

            def do_POST(self) -> None:
                if self.path != "/control":
                    return self._reply(404, b"not found")
                mode = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode().strip()
                try:
                    service.switch(mode)
                except ValueError as exc:
                    return self._reply(400, str(exc).encode())
                self._reply(200, mode.encode())

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
    print(f"serving http://{service.address}/metrics in mode {service.mode}", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        service.stop()


if __name__ == "__main__":
    main()
