"""ccb_observe as a library: a clean install, a typed and quiet public API, definitions from
anywhere (several systems, outputs per system), and `init` scaffolding a repo that passes at once."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import ccb_observe
from ccb_observe.cli import main
from ccb_observe.loader import load_systems
from ccb_observe.scaffold import scaffold_files

from conftest import ROOT

VENV_BIN = Path(sys.executable).parent
SYSTEM_TEMPLATE = '''
from ccb_observe import SLO, RatioIndicator, System, counter

requests = counter("{metric}_total", "Requests.", ["status"])
{var} = System("{name}", metrics=(requests,), slos=(
    SLO("errors", 99.5, RatioIndicator(total=requests(), bad=requests(status="500")), "Requests succeed"),
))
'''


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


# ---------------------------------------------------------------- the public API


def test_public_names_exist_and_are_documented() -> None:
    assert len(ccb_observe.__all__) == len(set(ccb_observe.__all__))
    for name in ccb_observe.__all__:
        value = getattr(ccb_observe, name)
        if callable(value) or isinstance(value, type(ccb_observe)):
            doc = (value.__doc__ or "").strip()
            # A dataclass without a docstring gets its signature as one: that documents nothing.
            assert doc and not doc.startswith(f"{name}("), f"ccb_observe.{name} has no docstring"


def test_package_docstring_example_runs() -> None:
    doc = ccb_observe.__doc__ or ""
    lines = doc.split("::\n", 1)[1].splitlines()
    block = itertools.takewhile(lambda line: not line or line.startswith(" "), lines)
    example = textwrap.dedent("\n".join(block))
    namespace: dict[str, object] = {}
    exec(example, namespace)
    assert "shop/prometheus/rules/slo-errors.rules.yml" in namespace["files"]  # type: ignore[operator]


def test_import_is_quiet_in_the_project_venv() -> None:
    done = run([sys.executable, "-W", "error", "-c", "import ccb_observe"], cwd=Path("/"))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_import_leaves_the_compilers_for_later() -> None:
    """An application importing ccb_observe for its instruments does not load the compilers."""
    probe = "import sys, ccb_observe; print(sorted(m for m in ('ccb_observe.compile', 'grafanalib.core') if m in sys.modules))"
    assert run([sys.executable, "-c", probe], cwd=Path("/")).stdout.strip() == "[]"
    after = "import sys, ccb_observe; ccb_observe.compile_system; print('ccb_observe.compile' in sys.modules)"
    assert run([sys.executable, "-c", after], cwd=Path("/")).stdout.strip() == "True"


def test_mypy_strict_passes_on_the_package() -> None:
    done = run([str(VENV_BIN / "mypy"), "--strict", "ccb_observe"], cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------- a fresh virtualenv


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """python3 -m venv + pip install of this repository (a copy of the working tree, so the build
    leaves nothing behind in it), dependencies from the package index."""
    base = tmp_path_factory.mktemp("fresh")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "generated", "build", "*.egg-info", "__pycache__", ".*_cache"))
    venv = base / "venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    done = run([str(venv / "bin" / "pip"), "install", "-q", str(source)], cwd=base)
    assert done.returncode == 0, done.stderr
    return venv


def test_fresh_install_imports_quietly_and_ships_types_and_templates(fresh_venv: Path, tmp_path: Path) -> None:
    python = str(fresh_venv / "bin" / "python")
    done = run([python, "-W", "error", "-c", "import ccb_observe"], cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    where = run([python, "-c", "import ccb_observe, pathlib; print(pathlib.Path(ccb_observe.__file__).parent)"], cwd=tmp_path)
    package = Path(where.stdout.strip())
    assert package.parent.name == "site-packages", package
    assert (package / "py.typed").is_file()
    assert sorted(p.name for p in (package / "scaffold_templates").iterdir() if p.suffix == ".tmpl") == sorted(
        p.name for p in (ROOT / "ccb_observe" / "scaffold_templates").glob("*.tmpl"))


def test_fresh_install_init_generate_and_check_pass(fresh_venv: Path, tmp_path: Path) -> None:
    cli = str(fresh_venv / "bin" / "ccb-observe")
    repo = tmp_path / "payments-api"
    done = run([cli, "init", str(repo)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run([cli, "generate"], cwd=repo)
    assert done.returncode == 0, done.stderr
    assert (repo / "generated" / "payments-api" / "prometheus" / "rules" / "slo-requests.rules.yml").is_file()
    assert run([cli, "generate", "--check"], cwd=repo).returncode == 0
    done = run([cli, "check"], cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    # The scaffold's pyproject builds: install it (its dependency is already there).
    done = run([str(fresh_venv / "bin" / "pip"), "install", "-q", "--no-deps", str(repo)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_install_from_a_git_url_ships_the_package_data(tmp_path: Path) -> None:
    """What `pip install git+https://…` gives: the committed tree, built into a wheel."""
    target = tmp_path / "site"
    done = run([str(VENV_BIN / "pip"), "install", "-q", "--no-deps", "--target", str(target), f"git+file://{ROOT}"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    package = target / "ccb_observe"
    assert (package / "py.typed").is_file() and (package / "__init__.py").is_file()
    assert (package / "scaffold_templates" / "definitions.py.tmpl").is_file()
    assert (target / "bin" / "ccb-observe").is_file()


# ---------------------------------------------------------------- definitions from anywhere


def write_two_systems(folder: Path) -> None:
    folder.mkdir()
    (folder / "alpha.py").write_text(SYSTEM_TEMPLATE.format(metric="alpha_requests", var="ALPHA", name="alpha"))
    (folder / "beta.py").write_text(SYSTEM_TEMPLATE.format(metric="beta_requests", var="BETA", name="beta"))
    (folder / "_helpers.py").write_text("raise RuntimeError('files starting with _ are not loaded')\n")


def test_two_systems_in_one_directory_get_one_output_folder_each(tmp_path: Path) -> None:
    write_two_systems(tmp_path / "defs")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", "--definitions", str(tmp_path / "defs"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["alpha", "beta"]
    alpha = (out / "alpha" / "prometheus" / "rules" / "slo-errors.rules.yml").read_text()
    beta = (out / "beta" / "prometheus" / "rules" / "slo-errors.rules.yml").read_text()
    assert "alpha_requests_total" in alpha and "beta_requests" not in alpha
    assert "beta_requests_total" in beta and "alpha_requests" not in beta


def test_two_systems_in_one_module(tmp_path: Path) -> None:
    module = tmp_path / "both.py"
    # The second block rebinds `requests`; the first System keeps the metric it was built with.
    module.write_text(SYSTEM_TEMPLATE.format(metric="one_requests", var="ONE", name="one")
                      + SYSTEM_TEMPLATE.format(metric="two_requests", var="TWO", name="two"))
    assert [s.name for s in load_systems(module)] == ["one", "two"]
    result = CliRunner().invoke(main, ["generate", "-d", str(module), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one", "two"]


def test_definitions_from_a_file_or_a_module_path(tmp_path: Path) -> None:
    write_two_systems(tmp_path / "defs")
    out = tmp_path / "from-file"
    result = CliRunner().invoke(main, ["generate", "-d", str(tmp_path / "defs" / "beta.py"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["beta"]
    # A dotted module path, importable from PYTHONPATH (here: a package of definitions).
    package = tmp_path / "site" / "acme_observability"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(SYSTEM_TEMPLATE.format(metric="acme_requests", var="ACME", name="acme"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = run([str(VENV_BIN / "ccb-observe"), "generate", "-d", "acme_observability", "-o", str(tmp_path / "from-module")], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (tmp_path / "from-module").iterdir()] == ["acme"]


def test_a_module_path_that_does_not_import_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "-d", "no_such_definitions_module", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no_such_definitions_module" in result.output and "cannot import" in result.output
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- init


def test_init_writes_the_scaffold_and_generate_passes(tmp_path: Path, promtool: str) -> None:
    repo = tmp_path / "Shop Frontend"
    result = CliRunner().invoke(main, ["init", str(repo), "--team", "web"])
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()) == [
        ".github/workflows/observability.yml", ".gitignore", ".pre-commit-config.yaml",
        "Makefile", "README.md", "definitions/shop_frontend.py", "pyproject.toml",
    ]
    out = repo / "generated"
    result = CliRunner().invoke(main, ["generate", "-d", str(repo / "definitions"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rules = sorted((out / "shop-frontend" / "prometheus" / "rules").glob("*.yml"))
    assert [r.name for r in rules] == ["slo-requests.rules.yml"]
    assert 'team: web' in rules[0].read_text()
    checked = run([promtool, "check", "rules", *map(str, rules)], cwd=repo)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_init_repo_passes_its_own_make_targets(tmp_path: Path) -> None:
    repo = tmp_path / "orders"
    assert CliRunner().invoke(main, ["init", str(repo)]).exit_code == 0
    ccb = VENV_BIN / "ccb-observe"
    # -o: take this venv's ccb-observe as up to date instead of building .venv from the package index.
    make = ["make", "-o", str(ccb), f"VENV={VENV_BIN.parent}"]
    done = run([*make, "generate"], cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "generated" / "orders" / "prometheus" / "rules" / "slo-requests.rules.yml").is_file()
    done = run([*make, "check"], cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    # The pre-commit hooks, run as pre-commit would (their entry, in the repository's root).
    for hook in yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]:
        program, *args = shlex.split(hook["entry"])
        done = run([str(VENV_BIN / program), *args], cwd=repo)
        assert done.returncode == 0, f"hook {hook['id']}: {done.stdout}{done.stderr}"
    # A stale generated/ fails the gate.
    definition = repo / "definitions" / "orders.py"
    definition.write_text(definition.read_text().replace("99.9", "99.5"))
    assert run([str(ccb), "generate", "--check"], cwd=repo).returncode == 1


def test_init_config_files_are_well_formed() -> None:
    files = scaffold_files("orders", requirement="ccb-observe @ git+https://example.com/ccb_observe.git@v0.1.0")
    pyproject = tomllib.loads(files["pyproject.toml"].decode())
    assert pyproject["project"]["dependencies"] == ["ccb-observe @ git+https://example.com/ccb_observe.git@v0.1.0"]
    hooks = yaml.safe_load(files[".pre-commit-config.yaml"])["repos"][0]["hooks"]
    assert [h["entry"] for h in hooks] == ["ccb-observe generate --check", "ccb-observe check --skip promtool/test-rules"]
    workflow = yaml.safe_load(files[".github/workflows/observability.yml"])
    steps = workflow["jobs"]["check"]["steps"]
    assert steps[-1]["run"] == "make check FORMAT=github"
    assert any("prometheus-alertmanager" in s.get("run", "") for s in steps)
    assert not any(b"@@" in content for content in files.values())


def test_init_is_deterministic_and_names_the_system() -> None:
    assert scaffold_files("orders") == scaffold_files("orders")
    assert b'System(\n    "orders"' in scaffold_files("orders")["definitions/orders.py"]


def test_init_team_is_text_in_the_definition(tmp_path: Path) -> None:
    team = 'web "core"\\ \'ops\''
    repo = tmp_path / "orders"
    assert CliRunner().invoke(main, ["init", str(repo), "--team", team]).exit_code == 0
    (system,) = load_systems(repo / "definitions")
    assert system.team == team


def test_init_output_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    probe = ("import hashlib; from ccb_observe.scaffold import scaffold_files; "
             "f = scaffold_files('orders', requirement='ccb-observe'); "
             "print(hashlib.sha256(repr(sorted(f.items())).encode()).hexdigest(), list(f))")
    outputs = {run([sys.executable, "-c", probe], cwd=tmp_path, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("0", "1", "4242")}
    assert len(outputs) == 1 and outputs != {""}


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    repo = tmp_path / "orders"
    repo.mkdir()
    (repo / "Makefile").write_text("mine\n")
    result = CliRunner().invoke(main, ["init", str(repo)])
    assert result.exit_code == 2
    assert "would overwrite Makefile" in result.output
    assert [p.name for p in repo.iterdir()] == ["Makefile"] and (repo / "Makefile").read_text() == "mine\n"


def test_init_rejects_a_bad_system_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "x"), "--name", "Bad_Name"])
    assert result.exit_code == 2
    assert "system 'Bad_Name'" in result.output and "lower-case words" in result.output
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- typed constructors


def _typed_inits() -> list[tuple[type, ast.FunctionDef]]:
    """The `if TYPE_CHECKING: def __init__` signatures of the model classes."""
    found = []
    for path in sorted((ROOT / "ccb_observe" / "model").glob("*.py")):
        module = importlib.import_module(f"ccb_observe.model.{path.stem}")
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.ClassDef):
                continue
            for stmt in node.body:
                if isinstance(stmt, ast.If) and ast.unparse(stmt.test) == "TYPE_CHECKING":
                    init = next(s for s in stmt.body if isinstance(s, ast.FunctionDef) and s.name == "__init__")
                    found.append((getattr(module, node.name), init))
    return found


def test_typed_constructors_match_the_dataclass_fields() -> None:
    """A type checker reads the TYPE_CHECKING __init__; Python runs the dataclass one. Same names,
    same order, same optional parameters, same keyword-only ones."""
    inits = _typed_inits()
    assert {cls.__name__ for cls, _ in inits} >= {"SLO", "LatencyIndicator", "KPI", "Alert", "ScrapeJob", "System"}
    for cls, init in inits:
        fields = [f for f in dataclasses.fields(cls) if f.init]
        positional = [a.arg for a in init.args.args[1:]]
        assert positional == [f.name for f in fields if not f.kw_only], cls.__name__
        assert [a.arg for a in init.args.kwonlyargs] == [f.name for f in fields if f.kw_only], cls.__name__
        with_default = positional[len(positional) - len(init.args.defaults):] + [
            a.arg for a, d in zip(init.args.kwonlyargs, init.args.kw_defaults) if d is not None]
        assert with_default == [f.name for f in fields if f.default is not dataclasses.MISSING
                                or f.default_factory is not dataclasses.MISSING], cls.__name__


def test_user_code_type_checks_strictly(tmp_path: Path) -> None:
    """Definitions as people write them ("5m", 99.9, lists) pass mypy --strict: the seed's main
    module, the scaffold's example and every Python example of the docs."""
    files = [ROOT / "definitions" / "claude_code_bot.py"]
    scaffold = tmp_path / "scaffold_example.py"
    scaffold.write_bytes(scaffold_files("orders")["definitions/orders.py"])
    files.append(scaffold)
    for page in sorted((ROOT / "docs").glob("*.md")):
        blocks = re.findall(r"^```python\n(.*?)^```$", page.read_text(), re.DOTALL | re.MULTILINE)
        if blocks:
            example = tmp_path / f"docs_{page.stem.replace('-', '_')}.py"
            example.write_text("\n".join(blocks))
            files.append(example)
    done = run([str(VENV_BIN / "mypy"), "--strict", "--follow-imports=silent", *map(str, files)], cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
