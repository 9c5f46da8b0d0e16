"""Checks of the generated prometheus.yml.

Debian's promtool 2.42 is built without Kubernetes service discovery and rejects
`kubernetes_sd_configs` outright. So promtool checks a temporary copy, written beside the original
(so that `rule_files` resolve) with each Kubernetes block swapped for an equivalent-shaped
`file_sd_configs`; the Kubernetes blocks themselves are checked here against their documented fields.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ..compile.scrape import CONFIG_PATH
from ..model.scrape import KUBERNETES_ROLES
from ..output import read_yaml, to_yaml
from .findings import Finding, line_of
from .tools import run_tool

# kubernetes_sd_config fields (Prometheus configuration reference, 2.42).
KUBERNETES_SD_FIELDS = frozenset({
    "role", "api_server", "kubeconfig_file", "namespaces", "selectors", "attach_metadata",
    "basic_auth", "authorization", "oauth2", "bearer_token", "bearer_token_file", "proxy_url",
    "no_proxy", "proxy_from_environment", "proxy_connect_header", "tls_config", "follow_redirects",
    "enable_http2",
})
NAMESPACES_FIELDS = frozenset({"own_namespace", "names"})
SELECTOR_FIELDS = frozenset({"role", "label", "field"})
# The __meta_kubernetes_* labels each role attaches to its targets (by prefix).
_NAMESPACE = ("__meta_kubernetes_namespace",)
ROLE_META_PREFIXES: dict[str, tuple[str, ...]] = {
    "node": ("__meta_kubernetes_node_",),
    "service": _NAMESPACE + ("__meta_kubernetes_service_",),
    "pod": _NAMESPACE + ("__meta_kubernetes_pod_",),
    "endpoints": _NAMESPACE + ("__meta_kubernetes_endpoints_", "__meta_kubernetes_endpoint_",
                               "__meta_kubernetes_service_", "__meta_kubernetes_pod_"),
    "endpointslice": _NAMESPACE + ("__meta_kubernetes_endpointslice_", "__meta_kubernetes_service_",
                                   "__meta_kubernetes_pod_"),
    "ingress": _NAMESPACE + ("__meta_kubernetes_ingress_",),
}
CHECK = "promtool/check-config"


def checks(system_dir: Path) -> list[Finding]:
    config_file = system_dir / CONFIG_PATH
    if not config_file.is_file():
        return [Finding(str(config_file), 0, CHECK, "prometheus.yml is missing", "run `ccb-observe generate`")]
    text = config_file.read_text()
    config = read_yaml(text)
    findings = kubernetes_findings(config, config_file, text)
    return findings + promtool_findings(config, config_file)


def kubernetes_findings(config: dict[str, Any], config_file: Path, text: str) -> list[Finding]:
    findings: list[Finding] = []
    for job in config.get("scrape_configs") or []:
        name = job.get("job_name", "?")
        line = line_of(text, f"job_name: {name}")

        def found(message: str, fix: str) -> None:
            findings.append(Finding(str(config_file), line, "kubernetes-sd", f"job {name!r}: {message}", fix))

        roles = []
        for block in job.get("kubernetes_sd_configs") or []:
            for key in sorted(set(block) - KUBERNETES_SD_FIELDS):
                found(f"unknown kubernetes_sd_configs field {key!r}", f"use one of {', '.join(sorted(KUBERNETES_SD_FIELDS))}")
            role = block.get("role")
            if role not in KUBERNETES_ROLES:
                found(f"role {role!r} is not a Kubernetes SD role", f"use one of {', '.join(KUBERNETES_ROLES)}")
            else:
                roles.append(role)
            for key in sorted(set(block.get("namespaces") or {}) - NAMESPACES_FIELDS):
                found(f"unknown namespaces field {key!r}", "use own_namespace or names")
            for selector in block.get("selectors") or []:
                for key in sorted(set(selector) - SELECTOR_FIELDS):
                    found(f"unknown selectors field {key!r}", "use role, label or field")
                if selector.get("role") not in KUBERNETES_ROLES:
                    found(f"selector role {selector.get('role')!r} is not a Kubernetes SD role", f"use one of {', '.join(KUBERNETES_ROLES)}")
        for label in _meta_labels(job):
            if roles and not any(label.startswith(p) for role in roles for p in ROLE_META_PREFIXES[role]):
                found(f"relabelling reads {label}, which role {'/'.join(roles)} never sets", "use a label of the role's discovered metadata")
    return findings


def _meta_labels(job: dict[str, Any]) -> list[str]:
    labels = []
    for relabel in job.get("relabel_configs") or []:
        labels += [s for s in relabel.get("source_labels") or [] if s.startswith("__meta_kubernetes_")]
    return labels


def promtool_findings(config: dict[str, Any], config_file: Path) -> list[Finding]:
    """`promtool check config` on a copy beside the original, Kubernetes SD swapped for file SD."""
    folder = config_file.parent
    fd, copy_name = tempfile.mkstemp(prefix=".check-", suffix=".yml", dir=folder)
    targets_fd, targets_name = tempfile.mkstemp(prefix=".check-targets-", suffix=".json", dir=folder)
    try:
        os.write(targets_fd, b"[]\n")
        os.write(fd, to_yaml(without_kubernetes_sd(config, Path(targets_name).name), header=False))
        os.close(fd)
        os.close(targets_fd)
        result = run_tool("promtool", ["check", "config", Path(copy_name).name], cwd=str(folder))
    finally:
        for name in (copy_name, targets_name):
            Path(name).unlink(missing_ok=True)
    if result.ok:
        return []
    message = result.output.replace(Path(copy_name).name, config_file.name)
    return [Finding(str(config_file), 0, CHECK, message, "fix the scrape config or the rule files it names")]


def without_kubernetes_sd(config: dict[str, Any], targets_file: str) -> dict[str, Any]:
    jobs = []
    for job in config.get("scrape_configs") or []:
        if "kubernetes_sd_configs" in job:
            job = {k: v for k, v in job.items() if k != "kubernetes_sd_configs"}
            job["file_sd_configs"] = [{"files": [targets_file]}]
        jobs.append(job)
    return {**config, "scrape_configs": jobs}
