"""Pure logic of the offline conformance runner: presets, image recipes, ginkgo's argv and JUnit."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest

from harness.conformance import presets, recipes
from harness.conformance.run import ginkgo_argv, read_junit
from harness.conformance.suite import Suite
from harness.errors import UsageError
from harness.images.oci import Layer
from harness.images.versions import parse_version

pytestmark = pytest.mark.unit

DNS = "[sig-network] DNS should provide DNS for the cluster  [Conformance]"
SVC = "[sig-network] Services should serve a basic endpoint from pods  [Conformance]"


def test_every_preset_leaves_out_serial_and_disruptive_specs() -> None:
    for name in presets.PRESETS:
        sel = presets.select(name)
        assert re.search(sel.skip, "[sig-apps] Daemon set [Serial] should run [Conformance]")
        assert re.search(sel.skip, "[sig-node] Taints [Disruptive] evicts [Conformance]")


def test_preset_focus_picks_its_specs() -> None:
    assert re.search(presets.select("dns").focus, DNS) and not re.search(presets.select("dns").focus, SVC)
    assert re.search(presets.select("services").focus, SVC)
    assert re.search(presets.select("network").focus, DNS) and re.search(presets.select("network").focus, SVC)
    assert not re.search(presets.select("conformance").focus, "[sig-network] DNS should resolve [Feature:X]")


def test_user_focus_narrows_in_either_order_and_skip_widens() -> None:
    sel = presets.select("network", focus="DNS", skip="basic endpoint")
    assert re.search(sel.focus, DNS) and not re.search(sel.focus, SVC)
    assert re.search(presets.select("conformance", focus=r"\[sig-network\]").focus, DNS)
    assert re.search(sel.skip, SVC) and re.search(sel.skip, "x [Serial] y")


BAD = [({"preset": "nope"}, "unknown conformance preset"),
       ({"preset": "dns", "focus": "[sig-network"}, "not a regular expression")]  # fmt: skip


@pytest.mark.parametrize(("kw", "needle"), BAD)
def test_bad_selection_is_refused_with_a_fix(kw: dict[str, str], needle: str) -> None:
    with pytest.raises(UsageError, match=re.escape(needle)) as err:
        presets.select(**kw)
    assert err.value.fix


def test_quarantine_goes_into_the_skip_and_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    q = (presets.Quarantined(r"Proxy .* via the internet", "needs the internet"),)
    monkeypatch.setattr(presets, "QUARANTINE", q)
    sel = presets.select("network")
    skip = next(a for a in sel.ginkgo_args() if a.startswith("--skip="))
    assert "via the internet" in skip and r"\[Serial\]" in skip
    assert sel.quarantined("[sig-network] Proxy works via the internet") == q[0]
    assert not presets.select("network", quarantine=False).quarantine


@pytest.mark.parametrize(("name", "repo"), [
    ("registry.k8s.io/e2e-test-images/agnhost:2.66.1", "agnhost"),
    ("registry.k8s.io/e2e-test-images/volume/nfs:1.6.0", "volume/nfs"),
    ("registry.k8s.io/pause:3.10.2", "pause"),
    ("registry.k8s.io/etcd:3.7.0-0", "etcd"),
    ("invalid.registry.k8s.io/invalid/alpine:3.1", "alpine"),
])  # fmt: skip
def test_repository_of_an_image_name(name: str, repo: str) -> None:
    assert recipes.repository(name) == repo


def test_plan_builds_what_has_a_recipe_and_says_why_not_for_the_rest() -> None:
    names = ["registry.k8s.io/e2e-test-images/agnhost:2.66.1", "invalid.registry.k8s.io/invalid/alpine:3.1",
             "registry.k8s.io/e2e-test-images/volume/nfs:1.6.0", "registry.k8s.io/e2e-test-images/unknown:1.0",
             "gcr.io/k8s-authenticated-test/agnhost:2.6"]  # fmt: skip
    built, skipped = recipes.plan(names)
    assert built == names[:1]
    assert "unpullable" in skipped[names[1]] and "NFS" in skipped[names[2]]
    assert "no recipe" in skipped[names[3]] and "credentials" in skipped[names[4]]


def _pieces(tmp_path: Path) -> recipes.Pieces:
    for name in ("agnhost", "nnp", "coredns", "pause"):
        (tmp_path / name).write_text(name)
    return recipes.Pieces(tmp_path, tmp_path, tmp_path / "coredns", tmp_path / "pause", Layer(), Layer(), Layer())


def test_recipes_keep_upstreams_entrypoints_users_and_setuid(tmp_path: Path) -> None:
    p = _pieces(tmp_path)
    agn = recipes.RECIPES["agnhost"]("registry.k8s.io/e2e-test-images/agnhost:2.66.1", p)
    assert agn.entrypoint == ["/agnhost"] and agn.cmd == ["pause"]
    assert agn.layers[-1].symlinks == {"/agnhost-2": "agnhost"} and "/uploads" in agn.layers[-1].dirs
    kitten = recipes.RECIPES["kitten"]("registry.k8s.io/e2e-test-images/kitten:1.8", p)
    assert kitten.cmd == ["test-webserver"]
    assert {f.path for f in kitten.layers[-1].files} == {"/kitten.jpg", "/data.json"}
    assert recipes.RECIPES["nonroot"]("x/nonroot:1.5", p).user == "1234"
    nnp = recipes.RECIPES["nonewprivs"]("x/nonewprivs:1.4", p)
    assert nnp.layers[-1].files[0].mode == 0o4755 and nnp.cmd == ["nnp"]


def test_agnhost_users_extend_the_userlands_passwd_and_group(tmp_path: Path) -> None:
    root = tmp_path / "root" / "etc"
    root.mkdir(parents=True)
    (root / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "group").write_text("root:x:0:\n")
    tar = tmp_path / "u.tar"
    with tarfile.open(tar, "w") as t:
        t.add(tmp_path / "root", arcname=".")
    layer = recipes.with_users(tar, tmp_path / "out")
    passwd = (tmp_path / "out" / "passwd").read_text()
    group = (tmp_path / "out" / "group").read_text()
    assert passwd.startswith("root:") and "user-defined-in-image:x:1000:1000:" in passwd
    assert "group-defined-in-image:x:50000:user-defined-in-image" in group
    assert {f.path for f in layer.files} == {"/etc/passwd", "/etc/group"}


def test_ginkgo_argv_runs_the_prebuilt_suite_with_reports_in_out(tmp_path: Path) -> None:
    suite = Suite(tmp_path, parse_version("v1.37.2"))
    argv = ginkgo_argv(suite, presets.select("dns"), "/k/config", tmp_path / "out", 4)
    sep = argv.index("--")
    assert argv[0].endswith("bin/ginkgo") and "--procs=4" in argv and argv[sep - 1].endswith("e2e.test")
    assert f"--output-dir={tmp_path / 'out'}" in argv[:sep] and "--junit-report=junit.xml" in argv[:sep]
    assert "--kubeconfig=/k/config" in argv[sep:] and any(a.startswith("--kubectl-path=") for a in argv[sep:])


JUNIT = f"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="5" failures="1">
  <testsuite name="Kubernetes e2e suite" tests="5">
    <testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite" status="passed" time="2.0"/>
    <testcase name="[It] {DNS}" classname="Kubernetes e2e suite" status="passed" time="12.5"/>
    <testcase name="[It] {SVC}" classname="Kubernetes e2e suite" status="failed" time="30">
      <failure message="timed out waiting for endpoints" type="failed">stack</failure>
    </testcase>
    <testcase name="[It] [sig-network] Proxy works via the internet [Conformance]" status="skipped" time="0">
      <skipped message="skipped"/></testcase>
    <testcase name="[It] [sig-storage] CSI mock volume [Feature:X]" status="skipped" time="0">
      <skipped message="skipped"/></testcase>
  </testsuite>
</testsuites>
"""  # fmt: skip


def test_read_junit_keeps_what_ran_and_the_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(presets, "QUARANTINE", (presets.Quarantined("via the internet", "needs the internet"),))
    (tmp_path / "junit.xml").write_text(JUNIT)
    specs = read_junit(tmp_path / "junit.xml", presets.select("network"))
    by = {s.name: s for s in specs}
    assert set(by) == {DNS, SVC, "[sig-network] Proxy works via the internet [Conformance]"}
    assert by[DNS].status == "passed" and by[DNS].duration_s == 12.5
    assert by[SVC].status == "failed" and "timed out" in by[SVC].message
    assert by["[sig-network] Proxy works via the internet [Conformance]"].message == "needs the internet"


def test_run_create_refuses_a_bad_focus_before_making_a_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from harness import lifecycle
    from harness.cli.conformance import conformance

    made: list[object] = []
    monkeypatch.setattr(lifecycle, "create_cluster", lambda *a, **kw: made.append(a))
    res = CliRunner().invoke(conformance, ["run", "kh-conf", "--create", "--preset", "dns", "--focus", "[oops"])
    assert res.exit_code != 0 and "--focus" in str(res.exception) and made == []


def test_busybox_config_is_static_without_tc_and_sources_only_name_the_suite() -> None:
    from harness.conformance import busybox

    config = busybox.configure("# CONFIG_STATIC is not set\nCONFIG_TC=y\nCONFIG_FEATURE_TC_INGRESS=y\nCONFIG_ASH=y\n")
    assert config.splitlines() == ["CONFIG_STATIC=y", "# CONFIG_TC is not set", "CONFIG_FEATURE_TC_INGRESS=y",
                                   "CONFIG_ASH=y"]  # fmt: skip
    text = busybox.sources("http://deb.example/debian", "trixie")
    assert "Types: deb-src" in text and "Suites: trixie" in text
    assert any(o.startswith("Dir::Etc::SourceList=/dev/null") for o in busybox.apt_options(Path("/x")))
