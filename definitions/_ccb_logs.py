"""The Claude Code Bot's log pipeline, from the guide's "Centralized Logging" and "Log Rotation".

Decisions where the guide is silent or wrong:
- v1 syntax: `<parse>` instead of `format json`, no `type_name` (Elasticsearch has no mapping
  types since 7); time format as the container runtime writes it (`…%NZ`, RFC 3339 in UTC).
- Secrets are masked before anything leaves the node: container lines in `log`, the bot's own
  files in `message` (each field only where it exists, so no empty fields are added).
- One index per day (`claude-code-bot-YYYY.MM.DD`), credentials from the environment.
- The bot's own files (/var/log/claude-code-bot/*.log) are written by pods through a hostPath, so
  no signal reaches the writer from the node: `copytruncate`, not the guide's
  `systemctl reload`, and hence no `create` (the file is never recreated). Their line format is
  taken to be Python logging's "%(asctime)s %(levelname)s %(name)s: %(message)s".
- Rotated daily, or sooner past 100M (a noisy day must not fill the disk), 30 kept as in the guide.
"""

from ccb_observe.model.logs import (
    FileBuffer,
    KubernetesMetadata,
    LogPipeline,
    LogRotation,
    RecordTransform,
    Redact,
    RegexpParse,
    SearchOutput,
    TailSource,
    JsonParse,
    env,
)

APP_LOGS = "/var/log/claude-code-bot/*.log"

containers = TailSource(
    "claude-code-bot-containers",
    paths=("/var/log/containers/claude-code-bot*.log",),
    pos_file="/var/log/fluentd/claude-code-bot-containers.pos",
    tag="kubernetes.*",
    parse=JsonParse(time_key="time", time_format="%Y-%m-%dT%H:%M:%S.%NZ"),
)
app_files = TailSource(
    "claude-code-bot-files",
    paths=(APP_LOGS,),
    pos_file="/var/log/fluentd/claude-code-bot-files.pos",
    tag="claude-code-bot.app",
    parse=RegexpParse(
        r"^(?<time>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,]+) (?<level>[A-Z]+) (?<logger>[^ :]+): (?<message>.*)$",
        time_format="%Y-%m-%d %H:%M:%S,%L",
    ),
)

LOGS = LogPipeline(
    sources=(containers, app_files),
    filters=(
        KubernetesMetadata("kubernetes.**"),
        Redact("kubernetes.**", fields=("log",)),
        Redact("claude-code-bot.**", fields=("message",)),
        RecordTransform("kubernetes.** claude-code-bot.**", add={"service": "claude-code-bot"}),
    ),
    outputs=(
        SearchOutput(
            "kubernetes.** claude-code-bot.**",
            host="elasticsearch-service",
            index="claude-code-bot",
            user=env("ES_USER"),
            password=env("ES_PASSWORD"),
            buffer=FileBuffer("/var/log/fluentd/buffer/elasticsearch"),
        ),
    ),
    rotation=LogRotation(paths=(APP_LOGS,), rotate=30, copytruncate=True),
    namespace="claude-code-bot",
)
