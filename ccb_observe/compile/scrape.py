"""Prometheus's own configuration: global intervals, Alertmanager targets, the generated rule files
(by path relative to prometheus.yml, which is how Prometheus resolves them), and the scrape jobs."""

from __future__ import annotations

from typing import Any

from ..model import System
from ..model.scrape import Relabel, ScrapeJob
from ..output import Output, to_yaml
from . import rules

CONFIG_PATH = "prometheus/prometheus.yml"
RULES_FROM_CONFIG = rules.RULES_DIR.removeprefix("prometheus/")


def compile(system: System) -> Output:
    return {CONFIG_PATH: to_yaml(prometheus_config(system))}


def prometheus_config(system: System) -> dict[str, Any]:
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": str(system.scrape_interval),
            "evaluation_interval": str(system.evaluation_interval),
        },
    }
    if system.alertmanagers:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(system.alertmanagers)}]}]}
    config["rule_files"] = [f"{RULES_FROM_CONFIG}/{name}" for name in sorted(rules.rule_file_names(system))]
    config["scrape_configs"] = [scrape_config(job) for job in system.scrape_jobs]
    return config


def scrape_config(job: ScrapeJob) -> dict[str, Any]:
    config: dict[str, Any] = {"job_name": job.name}
    if job.interval is not None:
        config["scrape_interval"] = str(job.interval)
    config["metrics_path"] = job.metrics_path
    if job.kubernetes_role:
        config["kubernetes_sd_configs"] = [{"role": job.kubernetes_role}]
    else:
        config["static_configs"] = [{"targets": list(job.targets)}]
    if job.relabel:
        config["relabel_configs"] = [relabel_config(r) for r in job.relabel]
    return config


def relabel_config(relabel: Relabel) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if relabel.source_labels:
        config["source_labels"] = list(relabel.source_labels)
    for key in ("separator", "regex", "target_label", "replacement"):
        value = getattr(relabel, key)
        if value is not None:
            config[key] = value
    config["action"] = relabel.action
    return config
