"""Who the Claude Code Bot's alerts reach (Alertmanager).

The platform team owns the service. Pages (severity critical) go to the on-call through
PagerDuty and to #ccb-incidents; P0 pages re-notify faster. Tickets (warning) go to #ccb-tickets
and the ticket tracker during business hours only (they wait for the morning, they are not
dropped). Whatever else arrives (another team, severity info) still e-mails the platform on-call.

Secrets live in files mounted into the Alertmanager pod (/etc/alertmanager/secrets/), never here.

Inhibitions: the burn-rate tiers inhibit slower ones by themselves (compiler); while PostgreSQL
or Redis is down, the symptoms they cause stay quiet and the outage alert pages instead.
"""

from ccb_observe.model.routing import Dependency, Email, PagerDuty, Routing, Slack, TimeInterval, Webhook, receiver, route

SECRETS = "/etc/alertmanager/secrets/"

ROUTING = Routing(
    receivers=(
        receiver("platform-pager", PagerDuty(routing_key_file=SECRETS + "pagerduty-platform")),
        receiver("platform-incidents", Slack("#ccb-incidents", api_url_file=SECRETS + "slack-webhook")),
        receiver(
            "platform-tickets",
            Slack("#ccb-tickets", api_url_file=SECRETS + "slack-webhook"),
            Webhook("https://tickets.claude-code-bot.example/hooks/alertmanager", credentials_file=SECRETS + "tickets-token"),
        ),
        receiver(
            "platform-email",
            Email(
                to="platform-oncall@claude-code-bot.example", sender="alertmanager@claude-code-bot.example",
                smarthost="smtp.claude-code-bot.example:587", auth_username="alertmanager",
                auth_password_file=SECRETS + "smtp-password",
            ),
        ),
    ),
    route=route(
        "platform-email",
        route(
            "platform-email",
            route(
                "platform-pager",
                route("platform-pager", match={"priority": "P0"}, group_wait="10s", repeat_interval="30m"),
                match={"severity": "critical"}, continue_=True, group_wait="30s", repeat_interval="1h",
            ),
            route("platform-incidents", match={"severity": "critical"}, group_wait="30s", repeat_interval="1h"),
            route(
                "platform-tickets", match={"severity": "warning"}, group_interval="30m", repeat_interval="1d",
                active_time_intervals=["business-hours"],
            ),
            match={"team": "platform"},
        ),
        group_wait="30s", group_interval="5m", repeat_interval="4h",
    ),
    time_intervals=(
        TimeInterval("business-hours", weekdays=("monday:friday",), times=(("09:00", "18:00"),), location="Europe/Moscow"),
    ),
    dependencies=(
        Dependency(
            "postgresql", outage="PostgresDown",
            symptoms=("HighErrorRate", "HighResponseTime", "IntegrationFailures", "error-rate", "latency", "integration-success"),
        ),
        Dependency(
            "redis", outage="RedisDown",
            symptoms=("HighErrorRate", "HighResponseTime", "error-rate", "latency"),
        ),
    ),
)
