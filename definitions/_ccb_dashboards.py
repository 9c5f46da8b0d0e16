"""The Claude Code Bot's three dashboards from the operations guide ("Grafana Dashboards"):
System Health, Business Metrics, Infrastructure, with every panel the guide lists.

Panels read the series the rules compiler records wherever one exists (SLO error ratios and SLIs,
KPIs); the rest read the catalog's metrics over Grafana's `$__rate_interval`. The SLO overview is
not here: it is derived from the SLOs.
"""

from typing import Sequence

from ccb_observe import naming
from ccb_observe import promql as q
from ccb_observe.model import KPI, SLO
from ccb_observe.model.dashboards import (
    Dashboard, Gauge, Query, Row, Stat, Table, TimeSeries, kpi_stat, kpi_timeseries, slo_query, threshold,
)
from ccb_observe.durations import Duration
from ccb_observe.promql import RATE_INTERVAL, histogram_quantile, increase, max_, not_equal, rate, ratio, selector, sum_

SERVICE = "claude-code-bot"


def guide_dashboards(slos: Sequence[SLO], kpis: Sequence[KPI], job: str, namespace: str) -> tuple[Dashboard, ...]:
    slo = {s.name: s for s in slos}
    kpi = {k.name: k for k in kpis}
    return (
        system_health(slo["availability"], slo["error-rate"], job),
        business_metrics(kpi, job),
        infrastructure(namespace),
    )


def per_second(metric: str, by: Sequence[str], **labels: q.MatchValue) -> q.Expr:
    return sum_(rate(selector(metric, **labels)[RATE_INTERVAL]), by=by)


# ---------------------------------------------------------------- System Health


def system_health(availability: SLO, errors: SLO, job: str) -> Dashboard:
    def recorded(series: str, slo: SLO) -> q.Selector:
        return slo_query(series, slo, SERVICE)

    buckets = sum_(rate(selector("http_request_duration_seconds_bucket", job=job)[RATE_INTERVAL]), by=["le"])
    db_connections = sum_(selector("pg_stat_activity_count"), by=["instance"])
    db_limit = max_(selector("pg_settings_max_connections"), by=["instance"])
    return Dashboard(
        "claude-code-bot-system-health", "Claude Code Bot: System Health",
        "Is the API up, fast and correct, and how busy are its connections (operations guide, Main Dashboard 1).",
        (
            Row("Uptime"),
            Stat("Uptime (30d)", "Share of successful health scrapes of the API over the availability SLO's 30 days (objective 99.9%).",
                 "percentunit", (Query(recorded(naming.SLI_PERIOD, availability), "uptime"),),
                 (threshold("0.999", "green"),), "red", width=6),
            TimeSeries("Uptime per hour", "Successful health scrapes of the API over the last hour, from the availability SLO's 1h error ratio.",
                       "percentunit", (Query(1 - recorded(naming.error_ratio(Duration(3600)), availability), "uptime (1h)"),),
                       (threshold("0.999", "green"),), "red", width=18),
            Row("Requests"),
            TimeSeries("Response time percentiles", "P50, P95 and P99 API latency. Dashed: the 500 ms latency SLO (orange) and the 1 s HighResponseTime alert (red).",
                       "s", tuple(Query(histogram_quantile(p, buckets), f"P{int(p * 100)}") for p in (0.5, 0.95, 0.99)),
                       (threshold("0.5", "orange"), threshold(1, "red")), width=12),
            TimeSeries("Error rate trend", "Share of API requests answered with a 5xx, over 5 minutes and over an hour, from the error-rate SLO's recorded ratios. Dashed: the 0.1% SLO (orange) and the 1% HighErrorRate alert (red).",
                       "percentunit",
                       (Query(recorded(naming.error_ratio(Duration(300)), errors), "5m"),
                        Query(recorded(naming.error_ratio(Duration(3600)), errors), "1h")),
                       (threshold("0.001", "orange"), threshold("0.01", "red")), width=12),
            TimeSeries("Request rate by status", "API requests per second by HTTP status (the guide's request-rate query).",
                       "reqps", (Query(per_second("http_requests_total", ["status"], job=job), "{{status}}"),), width=24, stacked=True),
            Row("Connections"),
            TimeSeries("Active database connections", "PostgreSQL connections by state (pg_stat_activity).",
                       "short", (Query(sum_(selector("pg_stat_activity_count"), by=["state"]), "{{state}}"),), width=10, stacked=True),
            Gauge("Database connection pool use", "Connections in use as a share of max_connections; the DatabaseConnections alert fires above 80%.",
                  "percentunit", (Query(ratio(db_connections, db_limit), "{{instance}}"),),
                  (threshold("0.6", "orange"), threshold("0.8", "red")), width=6),
            TimeSeries("Active Redis clients", "Clients connected to Redis (sessions and cache).",
                       "short", (Query(sum_(selector("redis_connected_clients")), "clients"),), width=8),
        ),
        tags=(SERVICE, "system-health"),
    )


# ---------------------------------------------------------------- Business Metrics


def business_metrics(kpi: dict[str, KPI], job: str) -> Dashboard:
    return Dashboard(
        "claude-code-bot-business-metrics", "Claude Code Bot: Business Metrics",
        "Integrations, webhook events and the external APIs the bot calls (operations guide, Main Dashboard 2). KPI panels show their target as a threshold.",
        (
            Row("KPIs"),
            kpi_stat(kpi["integrations-created"], SERVICE),
            kpi_stat(kpi["webhook-events"], SERVICE),
            kpi_stat(kpi["integrations-active"], SERVICE),
            kpi_stat(kpi["time-to-integration"], SERVICE),
            Row("Integrations"),
            kpi_timeseries(kpi["integrations-created"], SERVICE),
            TimeSeries("Integrations created per day by type", "Integrations that ended in a pull request over the last 24 hours, by integration type.",
                       "short", (Query(sum_(increase(selector("integrations_created_total", job=job)["1d"]), by=["type"]), "{{type}}"),), width=12, stacked=True),
            Row("Webhook events"),
            kpi_timeseries(kpi["webhook-events"], SERVICE),
            TimeSeries("Webhook events processed by source", "Webhook events handled per second, by source.",
                       "ops", (Query(per_second("webhook_events_total", ["source"], job=job), "{{source}}"),), width=12, stacked=True),
            Row("External APIs"),
            TimeSeries("AI API calls", "Calls to the AI API per second, by model and status.",
                       "reqps", (Query(per_second("ai_api_calls_total", ["model", "status"], job=job), "{{model}} {{status}}"),), width=12),
            TimeSeries("GitHub API calls", "Calls to the GitHub API per second, by endpoint and status.",
                       "reqps", (Query(per_second("github_api_calls_total", ["endpoint", "status"], job=job), "{{endpoint}} {{status}}"),), width=12),
        ),
        tags=(SERVICE, "business"),
    )


# ---------------------------------------------------------------- Infrastructure


def infrastructure(namespace: str) -> Dashboard:
    containers = {"namespace": namespace, "container": not_equal("")}  # "" is the pod-level cgroup sum

    def per_pod(metric: str, **labels: q.MatchValue) -> q.Expr:
        return per_second(metric, ["pod"], **labels)

    memory = selector("container_memory_usage_bytes", **containers)
    limit = selector("container_spec_memory_limit_bytes", **containers)
    return Dashboard(
        "claude-code-bot-infrastructure", "Claude Code Bot: Infrastructure",
        f"CPU, memory, disk, network and pod health of the {namespace} namespace (operations guide, Main Dashboard 3).",
        (
            Row("CPU and memory"),
            TimeSeries("CPU usage", "CPU cores used per pod (the HPA scales at 70% of requests).",
                       "short", (Query(per_pod("container_cpu_usage_seconds_total", **containers), "{{pod}}"),), width=8),
            TimeSeries("Memory usage", "Memory used per pod.",
                       "bytes", (Query(sum_(memory, by=["pod"]), "{{pod}}"),), width=8),
            TimeSeries("Memory use of limit", "Memory used as a share of the container limit, per pod (the guide's memory query); containers without a limit are left out.",
                       "percentunit", (Query(max_(ratio(memory, limit), by=["pod"]), "{{pod}}"),),
                       (threshold("0.8", "orange"), threshold("0.9", "red")), width=8),
            Row("Disk and network"),
            TimeSeries("Disk I/O", "Bytes read from and written to disk per second, per pod.",
                       "Bps", (Query(per_pod("container_fs_reads_bytes_total", **containers), "{{pod}} read"),
                               Query(per_pod("container_fs_writes_bytes_total", **containers), "{{pod}} write")), width=12),
            TimeSeries("Network traffic", "Bytes received and sent per second, per pod.",
                       "Bps", (Query(per_pod("container_network_receive_bytes_total", namespace=namespace), "{{pod}} in"),
                               Query(per_pod("container_network_transmit_bytes_total", namespace=namespace), "{{pod}} out")), width=12),
            Row("Pods"),
            Stat("Pods by phase", "Pods of the namespace in each phase (kube-state-metrics).",
                 "short", (Query(sum_(selector("kube_pod_status_phase", namespace=namespace), by=["phase"]), "{{phase}}"),), width=8, base_color="blue"),
            Table("Pods not running", "Pods in a phase other than Running or Succeeded right now.",
                  "short", (Query(selector("kube_pod_status_phase", namespace=namespace, phase=q.not_matches("Running|Succeeded")).gt(0)),), width=8),
            Table("Pod restarts (1h)", "Container restarts over the last hour; the PodRestart alert fires when one holds for 10 minutes.",
                  "short", (Query(sum_(increase(selector("kube_pod_container_status_restarts_total", namespace=namespace)["1h"]), by=["pod", "container"]).gt(0)),),
                  (threshold(1, "red"),), width=8),
        ),
        tags=(SERVICE, "infrastructure"),
    )
