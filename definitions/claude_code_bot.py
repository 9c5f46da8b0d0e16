"""The Claude Code Bot, as its operations guide (../shared/seed/operations-guide.md) describes it.

Where the guide is ambiguous or wrong, the decision is made here and said in a comment:
- HighErrorRate compared an absolute 5xx *rate* (req/s) with 0.01: it is the 5xx *ratio* here.
- IntegrationFailures did the same: a failure ratio (failures / integration requests) here.
- HighResponseTime alerted at P95 > 0.5 s while the SLO table says "alert > 1s": the table wins
  (target 500 ms is the latency SLO; the threshold alert fires at 1 s).
- DatabaseConnections compared a count with 80 on a server configured with max_connections = 200:
  it is a ratio of pg_settings_max_connections here (80% of the pool).
- PodRestart had no `for`: a restart must still count after 10 minutes (no flapping on new pods).
- `rate()` over pg_stat_statements_mean_time_ms, a gauge, is meaningless: it is read directly.
"""

from ccb_observe.model import (
    KPI,
    SLO,
    Alert,
    AvailabilityIndicator,
    LatencyIndicator,
    RatioIndicator,
    Relabel,
    ScrapeJob,
    System,
    counter,
    gauge,
    histogram,
    target,
)
from ccb_observe.model.conditions import gauge_compare, gauge_ratio_above, increase_above, quantile_above, ratio_above
from ccb_observe.promql import histogram_quantile, increase, matches, rate, sum_
from ccb_observe.templates import template

from _ccb_interop import ALERTMANAGERS
from _ccb_routing import ROUTING
from _ccb_dashboards import guide_dashboards
from _ccb_logs import LOGS

RUNBOOK = "https://runbooks.claude-code-bot.example/"
DASHBOARD = "https://grafana.claude-code-bot.example/d/"
JOB = "claude-code-bot"
NAMESPACE = "claude-code-bot"

# ---------------------------------------------------------------- the metric catalog
# The bot's own metrics (prometheus-client in the FastAPI app and the workers).
http_requests = counter("http_requests_total", "HTTP requests served by the API.", ["method", "handler", "status"])
http_duration = histogram(
    "http_request_duration_seconds", "HTTP request latency.",
    buckets=["0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"], labels=["method", "handler"], unit="seconds",
)
integration_requests = counter("integration_requests_total", "Integrations requested (issue received).", ["type"])
integrations_created = counter("integrations_created_total", "Integrations created successfully (PR opened).", ["type"])
integration_failures = counter("integration_failures_total", "Integrations that failed.", ["type", "reason"])
integrations_active = gauge("integrations_active", "Integrations currently running.", ["type"])
integration_duration = histogram(
    "integration_duration_seconds", "Time from issue to pull request.",
    buckets=[60, 300, 600, 900, 1800, 3600], labels=["type"], unit="seconds",
)
webhook_events = counter("webhook_events_total", "Webhook events processed.", ["source", "event"])
ai_api_calls = counter("ai_api_calls_total", "Calls to the AI API.", ["model", "status"])
github_api_calls = counter("github_api_calls_total", "Calls to the GitHub API.", ["endpoint", "status"])
# Written by Prometheus for every target.
up = gauge("up", "1 when the last scrape of the target succeeded.", source="prometheus")
# postgres_exporter and redis_exporter write these (`source`: the bot's instruments never expose them).
PG, REDIS = "postgres_exporter", "redis_exporter"
pg_connections = gauge("pg_stat_activity_count", "Connections per database and state.", ["datname", "state"], source=PG)
pg_max_connections = gauge("pg_settings_max_connections", "The server's max_connections setting.", source=PG)
pg_mean_query_time = gauge("pg_stat_statements_mean_time_ms", "Mean statement execution time (ms).", ["queryid"], source=PG)
pg_up = gauge("pg_up", "1 when the exporter reaches PostgreSQL.", source=PG)
redis_up = gauge("redis_up", "1 when the exporter reaches Redis.", source=REDIS)
redis_clients = gauge("redis_connected_clients", "Connected Redis clients.", source=REDIS)
redis_memory = gauge("redis_memory_used_bytes", "Memory used by Redis.", unit="bytes", source=REDIS)
# cAdvisor and kube-state-metrics, per container
_container = ["namespace", "pod", "container"]
CADVISOR, KSM = "cadvisor", "kube-state-metrics"
container_cpu = counter("container_cpu_usage_seconds_total", "Container CPU time.", _container, source=CADVISOR)
container_memory = gauge("container_memory_usage_bytes", "Container memory usage.", _container, unit="bytes", source=CADVISOR)
container_memory_limit = gauge("container_spec_memory_limit_bytes", "Container memory limit.", _container, unit="bytes", source=CADVISOR)
container_fs_reads = counter("container_fs_reads_bytes_total", "Bytes read from disk.", _container, source=CADVISOR)
container_fs_writes = counter("container_fs_writes_bytes_total", "Bytes written to disk.", _container, source=CADVISOR)
container_net_rx = counter("container_network_receive_bytes_total", "Network bytes received.", ["namespace", "pod", "interface"], source=CADVISOR)
container_net_tx = counter("container_network_transmit_bytes_total", "Network bytes sent.", ["namespace", "pod", "interface"], source=CADVISOR)
pod_restarts = counter("kube_pod_container_status_restarts_total", "Container restarts.", _container, source=KSM)
pod_phase = gauge("kube_pod_status_phase", "Pod phase (1 for the current phase).", ["namespace", "pod", "phase"], source=KSM)

api_requests = http_requests(job=JOB)
api_errors = http_requests(job=JOB, status=matches("5.."))

# ---------------------------------------------------------------- SLOs (the guide's table)
# Every SLO is kept over 30 days and guarded by the Workbook's burn-rate tiers. The table's
# "measurement window" and "alert threshold" columns become the threshold alerts further down.
slos = (
    # Availability 99.9% over 30 days. Measured as scrape success of the API pods (the guide's
    # "Uptime percentage" panel); request failures have their own SLO, error-rate.
    SLO(
        "availability", 99.9, AvailabilityIndicator(up(job=JOB)),
        "The API answers its health scrapes", runbook_url=RUNBOOK + "availability",
        dashboard_url=DASHBOARD + "claude-code-bot-slo-overview",
    ),
    # P95 under 500 ms: 95% of requests are faster than 0.5 s (an existing bucket).
    SLO(
        "latency", 95, LatencyIndicator(http_duration(job=JOB), "0.5"),
        "API requests complete within 500 ms", runbook_url=RUNBOOK + "latency",
        dashboard_url=DASHBOARD + "claude-code-bot-slo-overview",
    ),
    # Error rate under 0.1%: 99.9% of requests are not 5xx.
    SLO(
        "error-rate", 99.9, RatioIndicator(total=api_requests, bad=api_errors),
        "API requests succeed without a server error", runbook_url=RUNBOOK + "error-rate",
        dashboard_url=DASHBOARD + "claude-code-bot-slo-overview",
    ),
    # Integration success 98%. Integrations are few (tens a day): without a floor on the events in
    # the window, one failure among three would page. min_events keeps quiet hours from paging.
    SLO(
        "integration-success", 98,
        RatioIndicator(total=integration_requests(job=JOB), bad=integration_failures(job=JOB)),
        "Requested integrations end in a pull request", min_events=20,
        runbook_url=RUNBOOK + "integration-success", dashboard_url=DASHBOARD + "claude-code-bot-slo-overview",
    ),
)

# ---------------------------------------------------------------- business KPIs
kpis = (
    KPI("integrations-created", "New integrations per day", sum_(increase(integrations_created(job=JOB)["1d"])),
        unit="short", window="1d", target=target(">", 10)),
    KPI("integrations-active", "Integrations running now (tracked for trends)", sum_(integrations_active(job=JOB)),
        unit="short", window="5m"),
    KPI("webhook-events", "Webhook events processed per hour", sum_(increase(webhook_events(job=JOB)["1h"])),
        unit="short", window="1h", target=target(">", 1000)),
    # "Time to integration < 15 minutes": read as the P95 from issue to PR over a day.
    KPI("time-to-integration", "95th percentile time from issue to pull request",
        histogram_quantile(0.95, sum_(rate(integration_duration.bucket(job=JOB)["1d"]), by=["le"])),
        unit="s", window="1d", target=target("<", 900)),
)

# ---------------------------------------------------------------- threshold alerts (corrected)
# Each is a condition of known meaning, so the generated promtool suites can test it.
alerts = (
    Alert(
        "HighErrorRate", ratio_above(api_errors, api_requests, "5m", 0.01), "critical", "P1",
        summary="High API error ratio",
        description=template("{{ $value | humanizePercentage }} of API requests failed with a 5xx over the last 5 minutes (alert above 1%)."),
        for_="2m", runbook_url=RUNBOOK + "high-error-rate",
    ),
    Alert(
        "HighResponseTime", quantile_above(http_duration(job=JOB), 0.95, "5m", 1), "warning", "P2",
        summary="High API response time",
        description=template("95th percentile latency is {{ $value | humanizeDuration }} over the last 5 minutes (alert above 1s)."),
        for_="5m", runbook_url=RUNBOOK + "high-response-time",
    ),
    Alert(
        "IntegrationFailures",
        ratio_above(integration_failures(job=JOB), integration_requests(job=JOB), "1h", 0.05, function="increase"),
        "critical", "P1",
        summary="High integration failure ratio",
        description=template("{{ $value | humanizePercentage }} of integrations failed over the last hour (alert above 5%, success below 95%)."),
        for_="10m", runbook_url=RUNBOOK + "integration-failures",
    ),
    Alert(
        "DatabaseConnections", gauge_ratio_above(pg_connections(), pg_max_connections(), ("instance",), 0.8),
        "warning", "P2",
        summary="Database connection pool nearly exhausted",
        description=template("PostgreSQL {{ $labels.instance }} uses {{ $value | humanizePercentage }} of max_connections."),
        for_="5m", runbook_url=RUNBOOK + "database-connections",
    ),
    Alert(
        "PodRestart", increase_above(pod_restarts(namespace=NAMESPACE), "1h", 0), "warning", "P2",
        summary="Pod restarted",
        description=template("Container {{ $labels.container }} of pod {{ $labels.pod }} restarted {{ $value | humanize }} times in the last hour."),
        for_="10m", runbook_url=RUNBOOK + "pod-restart",
    ),
    # Dependency outages: while one fires, Alertmanager inhibits the symptoms it explains (_ccb_routing.py).
    Alert(
        "PostgresDown", gauge_compare(pg_up(), "==", 0), "critical", "P0",
        summary="PostgreSQL is unreachable",
        description=template("postgres_exporter {{ $labels.instance }} cannot reach PostgreSQL: the API and integrations fail until it is back."),
        for_="1m", runbook_url=RUNBOOK + "postgres-down",
    ),
    Alert(
        "RedisDown", gauge_compare(redis_up(), "==", 0), "critical", "P1",
        summary="Redis is unreachable",
        description=template("redis_exporter {{ $labels.instance }} cannot reach Redis: sessions and caching fail until it is back."),
        for_="1m", runbook_url=RUNBOOK + "redis-down",
    ),
)

# ---------------------------------------------------------------- scrape jobs (the guide's four)
scrape_jobs = (
    ScrapeJob(JOB, targets=("api-service:8000",), interval="10s"),
    ScrapeJob("postgresql", targets=("postgres-exporter:9187",)),
    ScrapeJob("redis", targets=("redis-exporter:9121",)),
    ScrapeJob(
        "kubernetes-pods", kubernetes_role="pod",
        relabel=(Relabel("keep", source_labels=("__meta_kubernetes_pod_annotation_prometheus_io_scrape",), regex="true"),),
    ),
)

SYSTEM = System(
    "claude-code-bot",
    metrics=(
        http_requests, http_duration, integration_requests, integrations_created, integration_failures,
        integrations_active, integration_duration, webhook_events, ai_api_calls, github_api_calls, up,
        pg_connections, pg_max_connections, pg_mean_query_time, pg_up, redis_up, redis_clients, redis_memory,
        container_cpu, container_memory, container_memory_limit, container_fs_reads, container_fs_writes,
        container_net_rx, container_net_tx, pod_restarts, pod_phase,
    ),
    slos=slos,
    kpis=kpis,
    alerts=alerts,
    scrape_jobs=scrape_jobs,
    alertmanagers=ALERTMANAGERS,
    routing=ROUTING,
    logs=LOGS,
    dashboards=guide_dashboards(slos, kpis, job=JOB, namespace=NAMESPACE),
    team="platform",
    scrape_interval="15s",
    evaluation_interval="15s",
)
