"""The same rule groups for rule stores other than plain files: Prometheus Operator `PrometheusRule`
objects (one per service), a Mimir/Cortex rules namespace file (`mimirtool rules load`), and the
Thanos ruler's arguments. The plain rule files stay the validated form; these only re-wrap their data.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import System
from ..output import Output, to_yaml
from ..templates import go_string
from . import rules, scrape

MANAGED_BY = {"app.kubernetes.io/managed-by": "ccb-observe"}
# etcd refuses objects over 1.5 MiB and the operator's own webhook warns far earlier; keep each
# PrometheusRule well under both.
MAX_OBJECT_BYTES = 512 * 1024


def compile(system: System) -> Output:
    out: Output = {f"kubernetes/prometheusrule-{name}.yaml": text for name, text in prometheus_rules(system).items()}
    out[f"mimir/{system.name}.rules.yaml"] = mimir_namespace(system)
    out["thanos/ruler-args.yaml"] = to_yaml(thanos_ruler(system))
    return out


def groups_by_service(system: System) -> dict[str, list[bytes]]:
    """Every rule group's YAML, under the service its rules carry (mixed or none: the system's)."""
    texts, services = rules.group_texts(system), rules.file_services(system)
    by_service: dict[str, list[bytes]] = {}
    for name in sorted(texts):
        by_service.setdefault(services[name] or system.service, []).extend(texts[name])
    return dict(sorted(by_service.items()))


def plain_groups(system: System) -> list[rules.Group]:
    files = rules.rule_files(system)
    return [group for name in sorted(files) for group in files[name]]


def prometheus_rules(system: System) -> dict[str, bytes]:
    """Object name -> PrometheusRule YAML; a service whose groups outgrow one object gets several.
    The groups are the rule files' own text, indented under `spec:` (never serialised twice)."""
    objects: dict[str, bytes] = {}
    for service, groups in groups_by_service(system).items():
        frame = len(_rule_object(system, _dns_name(service), service, []))
        chunks = _split(groups, frame)
        for index, chunk in enumerate(chunks):
            name = _dns_name(service) + (f"-{index + 1}" if len(chunks) > 1 else "")
            objects[name] = _rule_object(system, name, service, chunk)
    return objects


def _rule_object(system: System, name: str, service: str, groups: list[bytes]) -> bytes:
    head = to_yaml({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            # What a Prometheus resource's ruleSelector matches on: `matchLabels: {app.kubernetes.io/managed-by: ccb-observe}`.
            "labels": {**MANAGED_BY, "app.kubernetes.io/part-of": system.name, "ccb-observe/service": service},
        },
    })
    return head + b"spec:\n" + _indented(rules.groups_yaml(groups))


_LINE_START = re.compile(rb"^(?=.)", re.MULTILINE)  # empty lines stay empty, as PyYAML writes them


def _indented(text: bytes) -> bytes:
    if b"\n\n" in text or not text.endswith(b"\n"):
        return _LINE_START.sub(b"  ", text)
    return b"  " + text[:-1].replace(b"\n", b"\n  ") + b"\n"  # no empty line: the same, at C speed


def _split(groups: list[bytes], frame: int) -> list[list[bytes]]:
    """Groups packed in order into chunks whose object stays under MAX_OBJECT_BYTES. Block YAML
    is additive: an object's size is its empty frame plus each group's own (indented) lines."""
    chunks: list[list[bytes]] = [[]]
    size = frame
    for group in groups:
        cost = len(group) + group.count(b"\n") * 2  # two spaces of indentation per line
        if chunks[-1] and size + cost >= MAX_OBJECT_BYTES:
            chunks.append([])
            size = frame
        chunks[-1].append(group)
        size += cost
    return chunks


def _dns_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63] or "rules"


def mimir_namespace(system: System) -> bytes:
    """`mimirtool rules load FILE` (or cortextool): one rules namespace named after the system."""
    texts = rules.group_texts(system)
    return to_yaml({"namespace": system.name}) + rules.groups_yaml([t for name in sorted(texts) for t in texts[name]])


def thanos_ruler(system: System) -> dict[str, Any]:
    """Container args for `thanos rule`, which reads the plain rule files unchanged."""
    args = [
        "rule",
        f"--rule-file=/etc/thanos/{scrape.RULES_FROM_CONFIG}/*.rules.yml",
        f"--eval-interval={system.evaluation_interval}",
        f"--label=ruler_service={go_string(system.service)}",
        "--query=dnssrv+_http._tcp.thanos-query",
    ]
    args += [f"--alertmanagers.url=http://{target}" for target in system.alertmanagers]
    return {
        "notes": [
            f"Mount generated/{system.name}/{rules.RULES_DIR}/ at /etc/thanos/{scrape.RULES_FROM_CONFIG}/.",
            "Set --query to your Thanos Query (or Querier) address; the value here is the usual DNS SRV name.",
            "Groups with their own `interval` (the 5m SLO buckets) keep it in Thanos as in Prometheus.",
        ],
        "args": args,
    }
