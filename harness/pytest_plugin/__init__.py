"""The kube-harness pytest plugin (registered through the ``pytest11`` entry point).

Options (command line, ``KUBE_HARNESS_*`` environment, ``kube_harness_*`` ini): ``--kh-provider``,
``--kh-spec``, ``--kh-node-image``, ``--kh-kubeconfig``, ``--kh-keep-cluster``, ``--kh-reuse-cluster``,
``--kh-artifacts-dir``, ``--kh-html``. Fixtures: ``cluster``, ``k8s_client``, ``namespace``,
``cluster_factory``, ``module_cluster``, ``node_image``, ``cluster_spec``, ``cluster_provider``.
Markers: ``kh_cluster(...)``, ``kh_provider(...)``, ``kh_disruptive``. Every option and marker
name is namespaced, so pytest-kind and the like load beside it. Clusters are shared by every test
and xdist worker asking for the same one and deleted when the session ends, unless kept; a failing
test that used a cluster gets a failure bundle attached to its report.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness import signals
from harness.errors import HarnessError
from harness.paths import reports_root
from harness.pytest_plugin import durations, markers, reporting
from harness.pytest_plugin.conformance import conformance
from harness.pytest_plugin.fixtures import (
    NAMESPACE_KEY,
    POOL_KEY,
    _shared_clusters,
    cluster,
    cluster_factory,
    cluster_kubeconfig,
    cluster_pool,
    cluster_provider,
    cluster_spec,
    faults,
    k8s_client,
    keep_cluster,
    module_cluster,
    module_shared_cluster,
    namespace,
    node_image,
    session_cluster,
)
from harness.pytest_plugin.options import add_options, resolve_options
from harness.pytest_plugin.scheduling import make_scheduler
from harness.pytest_plugin.session import (
    end_session,
    session_dir,
    session_id,
    session_used_clusters,
    start_session,
)
from harness.pytest_plugin.sharing import Registry

__all__ = [
    "_shared_clusters",
    "cluster",
    "cluster_factory",
    "cluster_kubeconfig",
    "cluster_pool",
    "cluster_provider",
    "cluster_spec",
    "conformance",
    "faults",
    "k8s_client",
    "keep_cluster",
    "module_cluster",
    "module_shared_cluster",
    "namespace",
    "node_image",
    "session_cluster",
]  # fmt: skip


SESSION_ENV_KEY = pytest.StashKey[dict[str, str | None]]()
SIGNALS_KEY = pytest.StashKey[dict[int, Any]]()


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)  # before junitxml reads --junitxml
def pytest_configure(config: pytest.Config) -> None:
    for name, doc in markers.MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")
    resolve_options(config)
    config.pluginmanager.register(reporting, "kube-harness-events")
    # SIGTERM (a CI cancel) and SIGHUP clean up as Ctrl-C does; an xdist controller passes them on
    # to its workers, which a cancel aimed at the controller alone would not reach
    controller = not _is_xdist_worker(config) and bool(getattr(config.option, "numprocesses", None))
    config.stash[SIGNALS_KEY] = signals.install(signals.forward_to_children if controller else None)
    if not _is_xdist_worker(config):
        config.stash[SESSION_ENV_KEY] = start_session()
        _artifacts_junit(config)
        reporter = reporting.Reporter(config, session_id(), config.getoption("kh_html") or None)
        config.pluginmanager.register(reporter, "kube-harness-reporter")
        if getattr(config, "cache", None) is not None:  # None under -p no:cacheprovider
            recorder = durations.Recorder(config.cache, lambda: Registry(session_dir()).plan())
            config.pluginmanager.register(recorder, "kube-harness-durations")


def _artifacts_junit(config: pytest.Config) -> None:
    """With ``$ARTIFACTS`` set (the CI convention) and no ``--junitxml``, JUnit goes there too."""
    artifacts = os.environ.get("ARTIFACTS")
    if artifacts and not getattr(config.option, "xmlpath", None) and hasattr(config.option, "xmlpath"):
        config.option.xmlpath = str(Path(artifacts) / f"junit_{config.getoption('kh_provider')}_{session_id()}.xml")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller (after every worker is gone) deletes any cluster of the session still there
    and not kept: what an interrupted or killed worker left. Then the session ends."""
    if SESSION_ENV_KEY in config.stash:
        if session_used_clusters() and not config.getoption("kh_keep_cluster"):
            with contextlib.suppress(Exception):  # no backend answers: nothing to sweep
                from harness.lifecycle import sweep_session

                for name in sweep_session(session_id()):
                    print(f"kube-harness: deleted cluster {name}, left by this session", file=sys.stderr)
        end_session(config.stash[SESSION_ENV_KEY])
    if SIGNALS_KEY in config.stash:
        signals.restore(config.stash[SIGNALS_KEY])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses a cluster belongs to the ``cluster`` tier (so ``-m unit`` skips it)."""
    for item in items:
        if markers.uses_cluster(item) and item.get_closest_marker("kh_cluster") is None:
            item.add_marker(pytest.mark.kh_cluster)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist load`` (xdist's default): shared clusters' tests as their clusters come up, the
    longest (last time) first (scheduling)."""
    if config.getoption("dist", None) != "load" or config.getoption("kh_reuse_cluster"):
        return None
    return make_scheduler(config, log, Registry(session_dir()), durations.load(getattr(config, "cache", None)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    """After a test's teardown: release its shared cluster if no other test of the session wants it."""
    try:
        return (yield)
    finally:
        if POOL_KEY in item.config.stash:
            item.config.stash[POOL_KEY].test_done(item.nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Misused markers fail the test at setup with the problem and the fix (before any cluster)."""
    if markers.uses_cluster(item) or item.get_closest_marker("kh_disruptive") or item.get_closest_marker("kh_provider"):
        from harness.spec import spec_from_kwargs

        try:
            markers.request_for(item, spec_from_kwargs(), "kind")
        except HarnessError as exc:
            pytest.fail(f"kube-harness marker error: {exc}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    reporting.cluster_properties(item)
    _attach_bundle(item, report)
    _redact_report(item, report)
    return report


def _redact_report(item: pytest.Item, report: pytest.TestReport) -> None:
    """What pytest shows and writes to JUnit (the failure, captured output, properties) passes
    through the redactor: a failing command's text may carry a token or a key."""
    from harness.redact import redact

    if report.longrepr is not None:
        text = report.longreprtext
        if (clean := redact(text)) != text:
            report.longrepr = clean
    report.sections = [(title, redact(content)) for title, content in report.sections]
    item.user_properties[:] = [(k, redact(v) if isinstance(v, str) else v) for k, v in item.user_properties]
    report.user_properties = list(item.user_properties)


def _attach_bundle(item: pytest.Item, report: pytest.TestReport) -> None:
    if report.when != "call" or not report.failed:
        return None
    funcargs = getattr(item, "funcargs", {})
    test_cluster = funcargs.get("cluster")
    if test_cluster is None:
        return
    from harness.reporting.bundle import collect, write

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-120:]
    root = Path(item.config.getoption("kh_artifacts_dir") or reports_root())
    folder = root / f"session-{session_id()}" / "bundles" / safe
    namespaces = [item.stash[NAMESPACE_KEY]] if NAMESPACE_KEY in item.stash else []
    path = collect(test_cluster, folder, namespaces)
    write(path / "failure.txt", f"{item.nodeid}\n\n{report.longreprtext}\n")  # what failed, with the bundle
    files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
    report.sections.append(("kube-harness failure bundle", f"{path}\n" + "\n".join(f"  {f}" for f in files)))
    item.user_properties.append(("kube_harness_bundle", str(path)))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller (or pytest without xdist) deletes the session's shared clusters, unless kept."""
    config = session.config
    if POOL_KEY in config.stash:
        config.stash[POOL_KEY].join()  # clusters released early by this process
    kept = ("kh_keep_cluster", "kh_reuse_cluster", "kh_reuse")
    if _is_xdist_worker(config) or any(config.getoption(name) for name in kept):
        return
    from concurrent.futures import ThreadPoolExecutor

    from harness.lifecycle import delete_cluster

    registry = Registry(session_dir())
    if not registry.path.exists():
        return
    names = registry.names()
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        list(pool.map(delete_cluster, names))
    registry.clear()
