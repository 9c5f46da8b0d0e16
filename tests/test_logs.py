"""Log pipelines: fluent.conf (v1) and the logrotate stanza from the model; the own fluentd parser
reads back what the renderer writes; the plugin catalog rejects misspelled and missing parameters
at generate time; redaction masks real-looking secrets; hostile text cannot inject directives."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccb_observe.compile import fluentd as render_fluentd
from ccb_observe.compile import logrotate as render_logrotate
from ccb_observe.errors import DefinitionError
from ccb_observe.model import System
from ccb_observe.model.logs import (
    BOT_SECRETS,
    CreateMode,
    FileBuffer,
    FileOutput,
    LogPipeline,
    LogRotation,
    RecordTransform,
    Redact,
    Redaction,
    RegexpParse,
    SearchOutput,
    StdoutOutput,
    TailSource,
    env,
)
from ccb_observe.validate import fluentd as fluentd_check
from ccb_observe.validate import logrotate as logrotate_check
from ccb_observe.validate.fluentd import ConfigSyntaxError, Directive, Embedded, Param, env_fetch, parse, problems, root
from ccb_observe.validate.tools import Result

from conftest import ROOT, require_tool, shared_dir

CONF = "claude-code-bot/fluentd/fluent.conf"
CONFIGMAP = "claude-code-bot/fluentd/configmap.yaml"
STANZA = "claude-code-bot/logrotate/claude-code-bot"


def small_pipeline(**changes: object) -> LogPipeline:
    """A one-source pipeline to change one thing in."""
    source = TailSource("app", paths=("/var/log/app/*.log",), pos_file="/var/log/fluentd/app.pos", tag="app")
    pipeline = LogPipeline(sources=(source,), outputs=(StdoutOutput("app"),))
    return replace(pipeline, **changes)  # type: ignore[arg-type]


def compiled_text(pipeline: LogPipeline) -> str:
    return render_fluentd.compile(System("demo", metrics=(), logs=pipeline))[fluentd_check.CONF].decode()


# ---------------------------------------------------------------- the seed's generated files


def test_seed_conf_reads_back_as_the_tree_it_was_rendered_from(seed: System, seed_output: dict[str, bytes]) -> None:
    assert seed.logs is not None
    text = seed_output[CONF].decode()
    assert parse(text) == render_fluentd.config_tree(seed.logs)
    assert problems(parse(text)) == []


def test_seed_conf_is_v1_with_file_buffers_and_env_credentials(seed_output: dict[str, bytes]) -> None:
    tree = parse(seed_output[CONF].decode())
    sources = [d for d in tree.children if d.name == "source"]
    matches = [d for d in tree.children if d.name == "match"]
    assert sources and all(any(c.name == "parse" for c in s.children) for s in sources)
    keys = {p.key for d, _ in fluentd_check._walk(tree, "") for p in d.params}
    assert not keys & {"format", "type_name", "type", "time_format_fallbacks"}  # v0.12 spellings
    search = [m for m in matches if m.type in ("elasticsearch", "opensearch")]
    assert search, "the seed ships to Elasticsearch"
    for match in search:
        (buffer,) = [c for c in match.children if c.name == "buffer"]
        assert buffer.type == "file" and buffer.get("path")
        assert buffer.get("retry_type") == "exponential_backoff" and buffer.get("overflow_action") == "block"
        assert match.get("password") == env_fetch("ES_PASSWORD")
        assert match.get("logstash_prefix") == "claude-code-bot" and match.get("logstash_dateformat") == "%Y.%m.%d"
    records = [d for d, _ in fluentd_check._walk(tree, "") if d.name == "record" and d.get("log") is not None]
    (log_code,) = [r.get("log") for r in records]
    assert isinstance(log_code, str) and log_code.startswith("${record['log'].is_a?(String) ? record['log'].scrub.gsub(")
    assert log_code.count("${") == 1 and log_code.endswith("}")  # record_transformer evaluates it as one expression
    text = seed_output[CONF].decode()
    embedded = re.findall(r'"#\{([^}]*)\}"', text)
    assert embedded and all(re.fullmatch(r"ENV\.fetch\('[A-Z_]+'\)", code) for code in embedded)


def test_generated_tree_passes_both_checks(generated_copy: Path) -> None:
    system_dir = generated_copy / "claude-code-bot"
    assert (system_dir / "fluentd" / "fluent.conf").is_file()
    assert fluentd_check.checks(system_dir) == []
    require_tool("logrotate")
    assert logrotate_check.checks(system_dir) == []


def test_check_reports_a_tampered_conf_with_its_line(generated_copy: Path) -> None:
    conf = generated_copy / CONF
    lines = conf.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("flush_interval"))
    lines[at] = lines[at].replace("flush_interval", "flush_intervall")
    conf.write_text("\n".join(lines) + "\n")
    findings = fluentd_check.checks(generated_copy / "claude-code-bot")
    catalog = [f for f in findings if f.check == "fluentd/catalog"]
    assert len(catalog) == 1 and catalog[0].line == at + 1
    assert "flush_intervall" in catalog[0].message and "did you mean 'flush_interval'" in catalog[0].message
    assert [f.check for f in findings if f.check == "fluentd/configmap"] == ["fluentd/configmap"]  # no longer the same text


def test_configmap_carries_the_conf(seed_output: dict[str, bytes]) -> None:
    import yaml

    document = yaml.safe_load(seed_output[CONFIGMAP])
    assert document["kind"] == "ConfigMap" and document["metadata"]["namespace"] == "claude-code-bot"
    assert document["data"]["fluent.conf"] == seed_output[CONF].decode()


def test_generation_is_deterministic(seed: System) -> None:
    first = render_fluentd.compile(seed), render_logrotate.compile(seed)
    assert first == (render_fluentd.compile(seed), render_logrotate.compile(seed))
    code = (
        "from ccb_observe.loader import load_systems; from ccb_observe.compile import fluentd, logrotate;"
        "import hashlib,sys; (s,)=load_systems('definitions');"
        "out={**fluentd.compile(s), **logrotate.compile(s)};"
        "print(hashlib.sha256(b''.join(out[k] for k in sorted(out))).hexdigest())"
    )
    digests = {
        subprocess.run([str(ROOT / ".venv/bin/python"), "-c", code], cwd=ROOT, env={"PYTHONHASHSEED": seed_value},
                       capture_output=True, text=True, check=True).stdout
        for seed_value in ("0", "1", "4242")
    }
    assert len(digests) == 1


# ---------------------------------------------------------------- renderer -> parser round trip

_HOSTILE = [
    '"#{ENV.fetch(\'ES_PASSWORD\')}"', "#{`id`}", "a\"\n</match>\n<match **>\n  @type stdout", "\\", "\\n", "#", "\t",
    "x # not a comment", "  padded  ", "[1, 2]", "{\"a\": 1}", "'single'", "</source>", "<source>", "\r\n", "${record}",
]
_values = st.one_of(
    st.text(), st.sampled_from(_HOSTILE),
    st.from_regex(r"[A-Z_][A-Z0-9_]{0,12}", fullmatch=True).map(env_fetch),
)
_params = st.lists(
    st.builds(Param, st.from_regex(r"@?[a-z_][a-z0-9_.\-]{0,10}", fullmatch=True), _values), max_size=4,
).map(tuple)
_names = st.from_regex(r"[A-Za-z0-9_]{1,10}", fullmatch=True)
_args = st.one_of(st.just(""), st.from_regex(r"[a-z0-9_*.{},\-]{1,10}(?: [a-z0-9_*.]{1,10})?", fullmatch=True))
_directives = st.recursive(
    st.builds(Directive, _names, _args, _params),
    lambda children: st.builds(Directive, _names, _args, _params, st.lists(children, max_size=3).map(tuple)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_directives, max_size=4))
def test_any_tree_reads_back_exactly(children: list[Directive]) -> None:
    tree = root(*children)
    assert parse(render_fluentd.render(tree)) == tree


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_a_quoted_value_never_opens_ruby_or_ends_early(text: str) -> None:
    quoted = render_fluentd.quote(text)
    assert "#{" not in quoted.replace("\\#", "")
    assert "\n" not in quoted
    tree = parse(f"<source>\n  key {quoted}\n</source>\n")
    assert tree == root(Directive("source", params=(Param("key", text),)))


def test_hostile_record_value_cannot_inject_a_directive() -> None:
    hostile = 'x" \n</filter>\n<match **>\n  @type stdout\n</match>\n<filter **>\n  a "#{ENV.fetch(\'ES_PASSWORD\')}'
    pipeline = small_pipeline(filters=(RecordTransform("app", add={"note": hostile}),))
    tree = parse(compiled_text(pipeline))
    assert [d.name for d in tree.children] == ["source", "filter", "match"]
    (record,) = tree.children[1].children
    assert record.get("note") == hostile
    assert not any(isinstance(p.value, Embedded) for d, _ in fluentd_check._walk(tree, "") for p in d.params)


def test_parser_rejects_what_fluentd_rejects() -> None:
    for text, why in [
        ("<source>\n  a b\n", "</source>"),
        ("<source>\n  a b\n</match>\n", "closes"),
        ('<source>\n  a "open\n</source>\n', "end of the line"),
        ('<source>\n  a "\\q"\n</source>\n', "back-slash escape"),
        ('<source>\n  a "x#{1}"\n</source>\n', "mixed"),
    ]:
        with pytest.raises(ConfigSyntaxError, match=why):
            parse(text)
    # A '#' after a blank starts a comment outside quotes; right after a character it is text.
    assert parse("<a>\n  k v # c\n  j x#y\n</a>\n") == root(Directive("a", params=(Param("k", "v"), Param("j", "x#y"))))


# ---------------------------------------------------------------- the catalog


def test_misspelled_parameter_is_a_definition_error_at_generate_time() -> None:
    buffer = FileBuffer("/var/log/fluentd/buffer/es", extra_params={"chunk_limit_sise": "4m"})
    output = SearchOutput("app", host="es", index="app", buffer=buffer)
    with pytest.raises(DefinitionError) as caught:
        compiled_text(small_pipeline(outputs=(output,)))
    assert caught.value.where == output.defined_at and caught.value.where.file.endswith("test_logs.py")
    assert "chunk_limit_sise" in caught.value.rule and "did you mean 'chunk_limit_size'" in caught.value.rule


def test_wrongly_typed_and_doubled_parameters_are_errors() -> None:
    source = TailSource("app", paths=("/a/*.log",), pos_file="/a/p.pos", tag="app", extra_params={"rotate_wait": "soon"})
    with pytest.raises(DefinitionError, match="rotate_wait is a time, got 'soon'"):
        compiled_text(small_pipeline(sources=(source,)))
    source = TailSource("app", paths=("/a/*.log",), pos_file="/a/p.pos", tag="app", extra_params={"tag": "other"})
    with pytest.raises(DefinitionError, match="tag is set twice"):
        compiled_text(small_pipeline(sources=(source,)))


def test_catalog_names_missing_required_parameters_and_sections() -> None:
    tail = Directive("source", params=(Param("@type", "tail"), Param("path", "/a.log")))
    messages = [p.message for p in problems(root(tail))]
    assert "source tail requires 'tag'" in messages and "source tail requires a <parse> section" in messages
    regexp = Directive("source", params=(Param("@type", "tail"), Param("path", "/a"), Param("tag", "a")),
                       children=(Directive("parse", params=(Param("@type", "regexp"),)),))
    assert [p.message for p in problems(root(regexp))] == ["parse regexp requires 'expression'"]
    odd = Directive("match", "**", (Param("@type", "elasticsearch"), Param("password", Embedded("`cat /etc/shadow`"))),
                    (Directive("parse", params=(Param("@type", "json"),)),))
    messages = [p.message for p in problems(root(odd, Directive("match", params=(Param("@type", "nope"),))))]
    assert any("has no <parse> section" in m for m in messages)
    assert any("embedded Ruby other than ENV.fetch" in m for m in messages)
    assert any("no match plugin 'nope'" in m for m in messages)
    assert "a tag pattern is required" in messages


def test_catalog_rejects_the_guides_v012_stanza() -> None:
    guide = (shared_dir("seed", "operations-guide.md")).read_text()
    block = guide.split("fluent.conf: |", 1)[1].split("```", 1)[0]
    text = "\n".join(line[4:] for line in block.splitlines())
    messages = [p.message for p in problems(parse(text))]
    assert any("has no parameter 'format'" in m for m in messages)
    assert any("has no parameter 'type_name'" in m for m in messages)
    assert "source tail requires a <parse> section" in messages


# ---------------------------------------------------------------- redaction

_GSUB = re.compile(r"\.gsub\(/((?:\\.|[^/\\])*)/, '((?:\\.|[^'\\])*)'\)")


def patterns_in(text: str) -> list[tuple[str, str]]:
    """The (regexp, replacement) pairs the generated record_transformer applies, read back from
    fluent.conf: Ruby regexp literals are valid Python patterns in our subset; replacements are
    Ruby single-quoted strings."""
    tree = parse(text)
    codes = [p.value for d, _ in fluentd_check._walk(tree, "") if d.name == "record" for p in d.params
             if isinstance(p.value, str) and p.value.startswith("${")]
    assert codes, "no redaction in the conf"
    pairs = _GSUB.findall(codes[0])
    assert all(_GSUB.findall(code) == pairs for code in codes)
    return [(pattern, re.sub(r"\\([\\'])", r"\1", replacement)) for pattern, replacement in pairs]


def redact(line: str, pairs: list[tuple[str, str]]) -> str:
    for pattern, replacement in pairs:
        line = re.sub(pattern, replacement, line)
    return line


ANTHROPIC = "sk-ant-api03-" + "Xq3vR8tLm2NcP0aZ7yB4kW1eJ6hD9sF5gU-_oIxTQrVnMbCd" * 2 + "AA"
GHP = "ghp_" + "16C7e42F292c6912E7710c838347Ae178B4a"
GHS = "ghs_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"
PAT = "github_pat_11ABCDEFG0123456789_" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
SIGNATURE = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

SECRET_LINES = [
    (f"calling Anthropic with api_key={ANTHROPIC} model=claude", [ANTHROPIC]),
    (f"export ANTHROPIC_API_KEY={ANTHROPIC}", [ANTHROPIC]),
    (f"GITHUB_TOKEN={GHP} loaded", [GHP]),
    (f"git clone https://x-access-token:{GHS}@github.com/org/repo.git", [GHS]),
    (f"using fine-grained token {PAT}", [PAT]),
    (f"headers={{'Authorization': 'Bearer {JWT}', 'Accept': 'application/json'}}", [JWT]),
    ("Authorization: Basic dXNlcjpzM2NyM3QtcGFzc3dvcmQ=", ["dXNlcjpzM2NyM3QtcGFzc3dvcmQ="]),
    (f'{{"level":"info","msg":"request","authorization":"token {GHP}"}}', [GHP]),
    (f"X-Hub-Signature-256: sha256={SIGNATURE}", [SIGNATURE]),
    (f'{{"headers":{{"x-hub-signature":"sha1={SIGNATURE[:40]}"}}}}', [SIGNATURE[:40]]),
    ("webhook verified with secret=whsec_5f2b9c1d8e7a6f4b3c2d1e0f&event=push", ["whsec_5f2b9c1d8e7a6f4b3c2d1e0f"]),
    ('{"event":"installation","webhook_secret":"Zx9-Qp7_Lm3"}', ["Zx9-Qp7_Lm3"]),
    ("DATABASE_URL=postgresql://claude_bot:hunter2-Pr0d@postgres:5432/claude_bot_prod", ["hunter2-Pr0d"]),
    ("client_secret: 'c0ffee-7ea-b0a7'", ["c0ffee-7ea-b0a7"]),
]
ORDINARY_LINES = [
    "GET /v1/health 200 3ms",
    "Integration created for issue #42 (tokens=1532, model=claude-sonnet-4)",
    "Rotating the webhook secret per schedule",
    "Authorization failed for user alice: missing header",
    "keys start with sk-ant- and are kept in the vault",
    "POST https://api.github.com/repos/org/repo/pulls 201",
    "sha256 digest verified for artifact build-7",
    '{"level":"info","msg":"pr opened","pr":1234,"repo":"org/repo"}',
    "2024-01-01 12:00:00,123 INFO worker: processed 10 events in 0.5s",
]


@pytest.fixture(scope="module")
def seed_patterns(seed_output: dict[str, bytes]) -> list[tuple[str, str]]:
    return patterns_in(seed_output[CONF].decode())


def test_the_conf_applies_every_bot_secret_rule(seed_patterns: list[tuple[str, str]]) -> None:
    assert [p for p, _ in seed_patterns] == [render_fluentd.ruby_regex(r.pattern)[1:-1] for r in BOT_SECRETS]
    assert [r for _, r in seed_patterns] == [r.replacement for r in BOT_SECRETS]


@pytest.mark.parametrize(("line", "secrets"), SECRET_LINES)
def test_secrets_are_masked(line: str, secrets: list[str], seed_patterns: list[tuple[str, str]]) -> None:
    masked = redact(line, seed_patterns)
    for secret in secrets:
        assert secret not in masked
    assert "[REDACTED" in masked
    assert masked.split()[0][:4] == line.split()[0][:4]  # the line around the secret is kept


@pytest.mark.parametrize("line", ORDINARY_LINES)
def test_ordinary_lines_are_untouched(line: str, seed_patterns: list[tuple[str, str]]) -> None:
    assert redact(line, seed_patterns) == line


def test_name_is_kept_where_a_rule_keeps_it(seed_patterns: list[tuple[str, str]]) -> None:
    assert redact(f"Authorization: Bearer {JWT}", seed_patterns) == "Authorization: Bearer [REDACTED]"
    assert redact(f"X-Hub-Signature-256: sha256={SIGNATURE}", seed_patterns) == "X-Hub-Signature-256: sha256=[REDACTED]"


def test_non_portable_patterns_are_refused() -> None:
    for pattern, why in [(r"token=\w+", r"\\w"), (r"key$", "anchor"), (r"(?P<x>a)", "groups"), (r"[]a]", "opening")]:
        with pytest.raises(DefinitionError, match=why):
            Redaction("bad", pattern)
    with pytest.raises(DefinitionError, match="replacement"):
        Redaction("bad", "a(b)", r"\2")
    with pytest.raises(DefinitionError, match="empty string"):
        Redaction("bad", "a*")


# ---------------------------------------------------------------- model rules


def test_credentials_are_env_references_only() -> None:
    buffer = FileBuffer("/var/log/fluentd/buffer/es")
    with pytest.raises(DefinitionError, match="from the environment"):
        SearchOutput("app", host="es", index="app", buffer=buffer, user=env("ES_USER"), password="hunter2")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="https only"):
        SearchOutput("app", host="es", index="app", buffer=buffer, scheme="http", user=env("U"), password=env("P"))


def test_record_values_cannot_hold_placeholders() -> None:
    with pytest.raises(DefinitionError, match="placeholder"):
        RecordTransform("app", add={"x": "${record['log']}"})


def test_regexp_parse_and_opensearch_and_file_outputs_render_and_pass() -> None:
    source = TailSource("app", paths=("/a/*.log",), pos_file="/a/p.pos", tag="app",
                        parse=RegexpParse(r"^(?<time>[^ ]+) (?<message>.*)$", time_format="%Y-%m-%dT%H:%M:%S%z"))
    outputs = (
        SearchOutput("app.audit", host="os.internal", index="audit", flavor="opensearch", index_date_format=None,
                     buffer=FileBuffer("/b/os", overflow_action="drop_oldest_chunk", flush_interval="1h30m")),
        FileOutput("app", path="/var/log/fluentd/out/app", buffer=FileBuffer("/b/file")),
    )
    tree = parse(compiled_text(small_pipeline(sources=(source,), outputs=outputs)))
    assert problems(tree) == []
    (parse_section,) = tree.children[0].children
    assert parse_section.get("expression") == r"/^(?<time>[^ ]+) (?<message>.*)$/"
    opensearch = tree.children[1]
    assert opensearch.type == "opensearch" and opensearch.get("index_name") == "audit" and opensearch.get("suppress_type_name") is None
    assert opensearch.children[0].get("flush_interval") == "5400s"  # fluentd reads one unit only


def test_each_output_has_its_own_buffer_path() -> None:
    shared = FileBuffer("/b/same")
    with pytest.raises(DefinitionError, match="own"):
        small_pipeline(outputs=(FileOutput("app", "/o/a", shared), FileOutput("app", "/o/b", shared)))


def test_cli_exits_2_and_leaves_generated_untouched(tmp_path: Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "bad.py").write_text(
        "from ccb_observe.model import System\n"
        "from ccb_observe.model.logs import LogPipeline, StdoutOutput, TailSource\n"
        "SYSTEM = System('bad', metrics=(), logs=LogPipeline(\n"
        "    sources=(TailSource('a', paths=('/a.log',), pos_file='/a.pos', tag='a', extra_params={'read_from_tail': 'true'}),),\n"
        "    outputs=(StdoutOutput('a'),)))\n"
    )
    out = tmp_path / "generated"
    out.mkdir()
    (out / "keep").write_text("old")
    done = subprocess.run([str(ROOT / ".venv/bin/ccb-observe"), "generate", "-d", str(tmp_path / "defs"), "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "bad.py:4" in done.stderr and "read_from_tail" in done.stderr and "did you mean 'read_from_head'" in done.stderr
    assert [p.name for p in out.iterdir()] == ["keep"]


# ---------------------------------------------------------------- logrotate


def test_seed_stanza_reads_as_the_guide_intends(seed_output: dict[str, bytes]) -> None:
    text = seed_output[STANZA].decode()
    body = [line.strip() for line in text.splitlines() if line.startswith("    ")]
    assert text.splitlines()[1] == "/var/log/claude-code-bot/*.log {"
    assert {"daily", "rotate 30", "missingok", "notifempty", "compress", "delaycompress", "copytruncate", "maxsize 100M"} <= set(body)
    assert "postrotate" not in body and not any(line.startswith("create") for line in body)


def test_logrotate_accepts_the_seed_stanza(generated_copy: Path) -> None:
    require_tool("logrotate")
    result = logrotate_check.debug_run(generated_copy / STANZA)
    assert result.ok and "error:" not in result.output
    assert "rotating pattern: /var/log/claude-code-bot/*.log" in result.output and "30 rotations" in result.output


def _stanza_findings(tmp_path: Path, rotation: LogRotation) -> list[str]:
    require_tool("logrotate")
    path = tmp_path / "stanza"
    path.write_text(render_logrotate.stanza(rotation))
    return [f.message for f in logrotate_check.findings_of(logrotate_check.debug_run(path), "stanza")]


def test_postrotate_with_create_passes_and_unknown_owner_fails(tmp_path: Path) -> None:
    good = LogRotation(("/var/log/ccb-test/*.log",), postrotate=("kill -HUP $(cat /run/ccb.pid)",),
                       create=CreateMode("0640", "root", "root"))
    assert _stanza_findings(tmp_path, good) == []
    bad = replace(good, create=CreateMode("0640", "no-such-user-ccb", "root"))
    assert any("unknown user" in m for m in _stanza_findings(tmp_path, bad))


def test_error_lines_fail_even_when_logrotate_exits_0() -> None:
    result = Result(("logrotate",), 0, "", "reading config file x\nerror: x:3 unknown option 'dayly' -- ignoring line\n")
    (finding,) = logrotate_check.findings_of(result, "logrotate/x")
    assert finding.line == 3 and "unknown option 'dayly'" in finding.message


def test_rotation_policy_rules() -> None:
    with pytest.raises(DefinitionError, match="exactly one"):
        LogRotation(("/a/*.log",), copytruncate=True, postrotate=("true",))
    with pytest.raises(DefinitionError, match="exactly one"):
        LogRotation(("/a/*.log",))
    with pytest.raises(DefinitionError, match="no effect"):
        LogRotation(("/a/*.log",), copytruncate=True, create=CreateMode())
    with pytest.raises(DefinitionError, match="endscript"):
        LogRotation(("/a/*.log",), postrotate=("endscript",))
    with pytest.raises(DefinitionError, match="path"):
        LogRotation(("/a/my logs/*.log",), copytruncate=True)


def test_every_source_reaches_an_output_and_every_filter_a_source() -> None:
    with pytest.raises(DefinitionError, match="no output matches its tag 'app'"):
        small_pipeline(outputs=(StdoutOutput("other.**"),))
    with pytest.raises(DefinitionError, match="matches no source's tag"):
        small_pipeline(filters=(Redact("kubernetes.**"),))
    containers = TailSource("c", paths=("/var/log/containers/*.log",), pos_file="/p.pos", tag="kubernetes.*")
    assert containers.sample_tag == "kubernetes.var.log.containers.x.log"
    assert small_pipeline(sources=(containers,), outputs=(StdoutOutput("kubernetes.**"),)).sources == (containers,)


def test_redaction_stays_linear_on_long_lines(seed_patterns: list[tuple[str, str]]) -> None:
    import time

    started = time.perf_counter()
    for line in ("a" * 20000, "x://" + "b" * 20000, "authorization" * 2000, "sk-ant-" * 3000):
        redact(line, seed_patterns)
    assert time.perf_counter() - started < 1.0


def test_ruby_redacts_exactly_as_python_reads_the_patterns(seed_output: dict[str, bytes], seed_patterns: list[tuple[str, str]]) -> None:
    """The record_transformer expression itself, evaluated by real Ruby (Onigmo, fluentd's regexp
    engine), gives what the Python reading of the same patterns gives, secret lines and ordinary."""
    import json

    ruby = require_tool("ruby")
    tree = parse(seed_output[CONF].decode())
    (code,) = [p.value for d, _ in fluentd_check._walk(tree, "") if d.name == "record" for p in d.params if p.key == "log"]
    assert isinstance(code, str) and code.startswith("${") and code.endswith("}")
    lines = [line for line, _ in SECRET_LINES] + ORDINARY_LINES
    script = (
        "require 'json'\n"
        "input = JSON.parse(STDIN.read)\n"
        "run = ->(record) { eval(input['code']) }\n"
        "out = input['lines'].map { |line| run.({'log' => line}) }\n"
        # invalid UTF-8 before a key, a number, and a record without the field
        "bad = run.({'log' => (+\"\\xFF \").force_encoding('UTF-8') + input['lines'][0]})\n"
        "puts JSON.generate({'out' => out, 'bad' => bad.encode('UTF-8', invalid: :replace), 'number' => run.({'log' => 5}), 'none' => run.({})})\n"
    )
    done = subprocess.run([ruby, "-e", script], input=json.dumps({"code": code[2:-1], "lines": lines}),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["out"] == [redact(line, seed_patterns) for line in lines]
    assert result["out"][len(SECRET_LINES):] == ORDINARY_LINES
    assert ANTHROPIC not in result["bad"] and "[REDACTED:anthropic-key]" in result["bad"]
    assert result["number"] == 5 and result["none"] is None


def test_ruby_parses_a_bot_log_line_with_the_seed_regexp(seed_output: dict[str, bytes]) -> None:
    import json

    ruby = require_tool("ruby")
    tree = parse(seed_output[CONF].decode())
    (expression,) = [d.get("expression") for d, _ in fluentd_check._walk(tree, "") if d.name == "parse" and d.type == "regexp"]
    assert isinstance(expression, str) and expression.startswith("/") and expression.endswith("/")
    line = "2024-05-01 12:00:00,123 INFO ccb.worker: integration 42 opened a pull request"
    script = "require 'json'; e, l = ARGV; m = Regexp.new(e[1..-2]).match(l); puts JSON.generate(m.named_captures)"
    done = subprocess.run([ruby, "-e", script, expression, line], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"time": "2024-05-01 12:00:00,123", "level": "INFO", "logger": "ccb.worker",
                                       "message": "integration 42 opened a pull request"}
