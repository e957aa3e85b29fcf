"""The plugin's options, markers and misuse errors, through pytester (no cluster is made here)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit


def test_help_lists_options(pytester: pytest.Pytester) -> None:
    out = pytester.runpytest("--help").stdout.str()
    for flag in ("--kh-provider", "--kh-spec", "--kh-node-image", "--kh-kubeconfig", "--kh-keep-cluster",
                 "--kh-reuse-cluster", "--kh-artifacts-dir", "--kh-html", "KUBE_HARNESS_PROVIDER",
                 "kube_harness_provider"):  # fmt: skip
        assert flag in out


def test_markers_registered(pytester: pytest.Pytester) -> None:
    out = pytester.runpytest("--markers").stdout.str()
    for marker in ("@pytest.mark.kh_cluster", "@pytest.mark.kh_disruptive", "@pytest.mark.kh_provider"):
        assert marker in out
    assert "@pytest.mark.slow" not in out  # tiers are the project's markers, not the plugin's


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("kh_cluster(wrokers=3)", "did you mean 'workers'"),
        ("kh_cluster(3)", "keyword arguments only"),
        ("kh_cluster(networking={'kube_proxy_mode': 'ipvs'})", "iptables, nftables"),
        ("kh_provider('nope')", "allowed: kind, kubeadm, existing"),
        ("kh_disruptive('now')", "takes no arguments"),
    ],
)
def test_marker_misuse_fails_the_test_before_any_cluster(pytester: pytest.Pytester, marker: str, expected: str) -> None:
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.{marker}
        def test_x(cluster):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--kh-node-image", "never-used:tag")
    result.assert_outcomes(errors=1)
    assert expected in result.stdout.str()
    assert "kube-harness marker error" in result.stdout.str()


def test_tests_using_clusters_join_the_cluster_tier(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_needs_cluster(cluster):
            pass

        def test_pure():
            pass
    """)
    result = pytester.runpytest("-m", "not kh_cluster")
    result.assert_outcomes(passed=1, deselected=1)


def test_environment_and_ini_feed_options(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\nkube_harness_provider = kubeadm\n")
    pytester.makepyfile("""
        def test_provider(cluster_provider, pytestconfig):
            print("PROVIDER", cluster_provider)
    """)
    assert "PROVIDER kubeadm" in pytester.runpytest("-s").stdout.str()
    monkeypatch.setenv("KUBE_HARNESS_PROVIDER", "existing")
    assert "PROVIDER existing" in pytester.runpytest("-s").stdout.str()
    assert "PROVIDER kind" in pytester.runpytest("-s", "--kh-provider", "kind").stdout.str()


def test_bad_environment_value_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_HARNESS_PROVIDER", "minikube")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "minikube" in result.stderr.str() and "kind, kubeadm, existing" in result.stderr.str()
