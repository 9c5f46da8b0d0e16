"""The generated prometheus.yml: the guide's four jobs, rule files, Alertmanager, and promtool."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import yaml

from ccb_observe.compile import rules
from ccb_observe.compile.scrape import CONFIG_PATH
from ccb_observe.output import Output
from ccb_observe.validate.scrape import checks, kubernetes_findings

CONFIG = f"claude-code-bot/{CONFIG_PATH}"


def _config(seed_output: Output) -> dict:
    return yaml.safe_load(seed_output[CONFIG])


def test_guide_jobs_and_intervals(seed_output: Output) -> None:
    config = _config(seed_output)
    assert config["global"] == {"scrape_interval": "15s", "evaluation_interval": "15s"}
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert list(jobs) == ["claude-code-bot", "postgresql", "redis", "kubernetes-pods"]
    assert jobs["claude-code-bot"]["scrape_interval"] == "10s"
    assert jobs["claude-code-bot"]["static_configs"] == [{"targets": ["api-service:8000"]}]
    assert "scrape_interval" not in jobs["postgresql"]
    assert jobs["postgresql"]["static_configs"] == [{"targets": ["postgres-exporter:9187"]}]
    assert jobs["redis"]["static_configs"] == [{"targets": ["redis-exporter:9121"]}]
    pods = jobs["kubernetes-pods"]
    assert pods["kubernetes_sd_configs"] == [{"role": "pod"}]
    assert pods["relabel_configs"] == [{
        "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], "regex": "true", "action": "keep",
    }]


def test_rule_files_are_the_generated_ones(seed, seed_output: Output) -> None:
    config = _config(seed_output)
    folder = Path(CONFIG).parent
    for name in config["rule_files"]:
        assert (folder / name).as_posix() in seed_output, name
    assert len(config["rule_files"]) == len(rules.rule_files(seed)) > 0


def test_rule_file_names_match_the_rule_files_without_building_them(seed) -> None:
    # prometheus.yml lists the files by name only: building every group for that cost 0.75 s at 1,000 SLOs.
    assert rules.rule_file_names(seed) == list(rules.rule_files(seed))
    bare = replace(seed, kpis=(), alerts=(), routing=None, dashboards=())
    assert rules.rule_file_names(bare) == list(rules.rule_files(bare)) == [rules.slo_rules_file(s) for s in seed.slos]


def test_alertmanager_targets(seed_output: Output) -> None:
    assert _config(seed_output)["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}


def test_promtool_check_config_passes(generated_copy: Path, promtool: str) -> None:
    system_dir = generated_copy / "claude-code-bot"
    before = sorted(p.name for p in (system_dir / "prometheus").iterdir())
    assert checks(system_dir) == []
    # The temporary copy and its targets file are gone again.
    assert sorted(p.name for p in (system_dir / "prometheus").iterdir()) == before


def test_debian_promtool_rejects_kubernetes_sd_itself(generated_copy: Path, promtool: str) -> None:
    # Why the check swaps the block: without the swap the same file fails on this promtool build.
    folder = generated_copy / "claude-code-bot" / "prometheus"
    done = subprocess.run([promtool, "check", "config", "prometheus.yml"], cwd=folder, capture_output=True, text=True)
    # .ci/run installs Debian's promtool 2.42, built without Kubernetes SD: the premise of the swap.
    assert done.returncode != 0, "this promtool accepts kubernetes_sd_configs: the swap in validate/scrape.py is no longer needed"
    assert "kubernetes_sd_configs" in done.stdout + done.stderr


def test_promtool_reads_the_rule_files_it_names(generated_copy: Path, promtool: str) -> None:
    system_dir = generated_copy / "claude-code-bot"
    (system_dir / rules.RULES_DIR / "alerts.rules.yml").write_text("groups:\n- name: x\n  rules:\n  - alert: Bad\n    expr: rate(up[5m]\n")
    (finding,) = checks(system_dir)
    assert finding.check == "promtool/check-config"
    assert "alerts.rules.yml" in finding.message


def test_kubernetes_block_is_checked_against_its_fields(tmp_path: Path) -> None:
    text = "scrape_configs:\n- job_name: pods\n  kubernetes_sd_configs:\n  - role: pods\n    namespace: [x]\n"
    config = {"scrape_configs": [{
        "job_name": "pods",
        "kubernetes_sd_configs": [{"role": "pods", "namespace": ["x"], "selectors": [{"role": "pod", "labels": "a=b"}]}],
    }]}
    messages = [f.message for f in kubernetes_findings(config, tmp_path / "prometheus.yml", text)]
    assert messages == [
        "job 'pods': unknown kubernetes_sd_configs field 'namespace'",
        "job 'pods': role 'pods' is not a Kubernetes SD role",
        "job 'pods': unknown selectors field 'labels'",
    ]


def test_relabelling_must_read_labels_the_role_sets(tmp_path: Path) -> None:
    config = {"scrape_configs": [{
        "job_name": "svc", "kubernetes_sd_configs": [{"role": "service"}],
        "relabel_configs": [{"source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], "action": "keep", "regex": "true"}],
    }]}
    (finding,) = kubernetes_findings(config, tmp_path / "prometheus.yml", "- job_name: svc\n")
    assert finding.line == 1
    assert "never sets" in finding.message


def test_seed_kubernetes_block_is_clean(seed_output: Output, tmp_path: Path) -> None:
    text = seed_output[CONFIG].decode()
    assert kubernetes_findings(yaml.safe_load(text), tmp_path / "prometheus.yml", text) == []


def test_a_rule_file_the_config_names_must_exist(generated_copy: Path, promtool: str) -> None:
    system_dir = generated_copy / "claude-code-bot"
    (system_dir / rules.RULES_DIR / "kpis.rules.yml").unlink()
    (finding,) = checks(system_dir)
    assert '"rules/kpis.rules.yml" does not point to an existing file' in finding.message
    assert ".check-" not in finding.message  # the temporary copy is reported as the real file
