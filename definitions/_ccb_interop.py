"""The Claude Code Bot's Alertmanager, as Prometheus reaches it inside the cluster."""

ALERTMANAGERS = ("alertmanager:9093",)
