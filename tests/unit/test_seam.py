"""The Node/Provider seam holds: no Docker above the container providers, no import cycle, and
providers found by name (built-ins and entry points) with their options checked."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.errors import UsageError
from harness.providers import registry
from harness.providers.base import Node, Provider
from harness.providers.containers.node import ContainerNode
from harness.providers.existing import RemoteNode

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2] / "harness"
ALLOWED = ("providers/containers/", "host/", "images/")  # the container providers, host layer, image building
DOCKER_STRING = re.compile(r"^(docker|podman)(\s|$)")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _docker_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    docs, found = _docstrings(tree), []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name == "docker" or name.startswith(("docker.", "harness.providers.containers")):
                found.append(f"{path.name}:{node.lineno} imports {name}")
        literal = isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
        if literal and DOCKER_STRING.match(node.value):  # type: ignore[attr-defined]
            found.append(f"{path.name}:{node.lineno} runs {node.value!r}")
    return found


def test_no_docker_outside_the_container_providers_host_and_images() -> None:
    offenders = [use for mod, path in _modules().items()
                 if not str(path.relative_to(ROOT)).startswith(ALLOWED) for use in _docker_uses(path)]  # fmt: skip
    assert not offenders, "Docker used above the Node/Provider seam:\n" + "\n".join(offenders)


def _top_level_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """harness modules imported when ``path`` is imported (not under TYPE_CHECKING, not in functions)."""
    out: set[str] = set()
    tree = ast.parse(path.read_text())
    for node in tree.body:
        stmts = [node]
        if isinstance(node, ast.Try):
            stmts = node.body
        for stmt in stmts:
            targets: list[str] = []
            if isinstance(stmt, ast.Import):
                targets = [a.name for a in stmt.names]
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
                targets = [stmt.module] + [f"{stmt.module}.{a.name}" for a in stmt.names]
            for target in targets:
                parts = target.split(".")
                for i in range(1, len(parts) + 1):  # the packages on the way are imported too
                    if ".".join(parts[:i]) in modules:
                        out.add(".".join(parts[:i]))
    return out


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(mod: str) -> list[str] | None:
        state[mod] = 1
        stack.append(mod)
        for dep in sorted(graph.get(mod, ())):
            if dep == mod or mod.startswith(dep + "."):  # a module imports its own package: fine
                continue
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[mod] = 2
        return None

    for mod in sorted(graph):
        if mod not in state and (found := visit(mod)):
            return found
    return None


def test_no_import_cycle_in_harness() -> None:
    modules = _modules()
    graph = {mod: _top_level_imports(path, modules) for mod, path in modules.items()}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


# -- the registry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["kind", "kubeadm", "existing"])
def test_built_in_providers_implement_the_protocol(name: str) -> None:
    provider = registry.get(name)
    assert isinstance(provider, Provider) and provider.name == name


def test_nodes_implement_the_protocol() -> None:
    assert isinstance(ContainerNode("n", "worker"), Node)
    assert isinstance(RemoteNode("n", "worker"), Node)


def test_an_option_a_provider_does_not_take_names_the_ones_that_do() -> None:
    with pytest.raises(UsageError) as err:
        registry.get("kind", kubeconfig=Path("/tmp/kc"))
    assert "--kubeconfig" in err.value.message and "--provider existing" in (err.value.fix or "")


def test_unset_options_are_not_passed() -> None:
    assert registry.get("kind", phased=False, kubeconfig=None).name == "kind"


class PluginProvider:
    name = "plugin"
    node_access = True
    makes_resources = True
    options = ()

    def clusters(self) -> dict[str, dict[str, str]]:
        return {"from-plugin": {"kube-harness.io/provider": "plugin"}}

    def name_taken(self, cluster: str) -> bool:
        return cluster == "from-plugin"


def test_entry_point_providers_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def eps(group: str) -> list[Any]:
        assert group == registry.ENTRY_POINT_GROUP
        return [SimpleNamespace(name="plugin", value=f"{__name__}:PluginProvider"),
                SimpleNamespace(name="kind", value=f"{__name__}:PluginProvider")]  # fmt: skip

    monkeypatch.setattr(registry, "entry_points", eps)
    registry._targets.cache_clear()
    monkeypatch.setattr(registry, "BUILTIN", {"kind": registry.BUILTIN["kind"]})
    try:
        assert registry.names() == ["kind", "plugin"]  # a plugin cannot shadow a built-in
        assert isinstance(registry.get("plugin"), PluginProvider)
        assert registry.name_taken("from-plugin")
    finally:
        registry._targets.cache_clear()


def test_existing_provider_reads_kubeconfig_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.errors import UsageError
    from harness.providers.existing import check_kubeconfig

    config = tmp_path / "config"
    config.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("KUBECONFIG", f"{config}:{tmp_path / 'other'}")
    assert check_kubeconfig(None) == config
    monkeypatch.delenv("KUBECONFIG")
    with pytest.raises(UsageError, match="needs a kubeconfig") as err:
        check_kubeconfig(None)
    assert "KUBECONFIG" in (err.value.fix or "")
