"""The HTML report of a real session, rendered by Debian's headless Chromium.

An inner pytest session (its own process) makes one kind-provider cluster with the ``fast``
failover profile, kills a worker under a spread Deployment (the failover scenario's helpers) and
has a second test fail on purpose; it writes the session record and ``--kh-html``. Chromium
renders the file; in the rendered DOM the phase timeline, the fault timeline (with the node going
NotReady and the pods evicted) and the failing test's bundle link are there, the link leads to the
bundle, and nothing in the page is fetched. The screenshot is kept in the session's folder
(``report.png``: the README's picture is one of these).
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.paths import cache_root
from tests.outcomes import own_outcomes

pytestmark = pytest.mark.kh_cluster
BROWSER = "chromium-headless-shell"  # Debian's package of that name (`./dev test` installs it)
REAL_CACHE = str(cache_root())  # pytester changes HOME: the inner session must find the built tools
INNER = """
import pytest

from harness import faults
from harness.scenarios import failover

pytestmark = [pytest.mark.kh_cluster(failover="fast"), pytest.mark.kh_disruptive]


@pytest.fixture(scope="module")
def cluster(module_cluster):
    return module_cluster


def test_worker_loss(cluster, namespace, record_property):
    victim = cluster.workers[-1].name
    failover.deploy(cluster, namespace, victim, replicas=2)
    with faults.kill_node(cluster, victim) as fault:
        marks = failover.watch_loss(cluster, namespace, victim, fault.injected_at, 2, timeout=120)
    for name, value in marks.items():
        record_property(name, value)
    failover.assert_return_clean(cluster, namespace, victim, 2)


def test_fails_on_purpose(cluster):
    nodes = cluster.kubectl("get", "nodes", "-o", "name").split()
    assert len(nodes) == 99, f"failing on purpose (its bundle is what the report links): {nodes}"
"""


class Page(HTMLParser):
    """What the rendered DOM holds: classes of elements around each svg, links, text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.svg_in: list[str] = []
        self.links: dict[str, str] = {}
        self.text: list[str] = []
        self.fetches: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            self.svg_in.append(" ".join(self.stack))
        if tag == "a" and a.get("class"):
            self.links[str(a["class"])] = str(a.get("href"))
        if tag in ("script", "img", "link", "iframe") or str(a.get("src", "")).startswith("http"):
            self.fetches.append(tag)
        self.stack.append(str(a.get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def render(html: Path, screenshot: Path) -> Page:
    browser = shutil.which(BROWSER) or pytest.fail(f"{BROWSER} is not installed: `./dev test` installs it "
                                                   "(apt-get install chromium-headless-shell)")  # fmt: skip
    flags = [browser, "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,3600"]
    dom = subprocess.run([*flags, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and "</html>" in dom.stdout, dom.stderr[-2000:]
    subprocess.run([*flags, f"--screenshot={screenshot}", html.as_uri()], capture_output=True, timeout=120, check=True)
    page = Page()
    page.feed(dom.stdout)
    return page


def test_report_of_a_real_session_renders_in_chromium(pytester: pytest.Pytester, node_image: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("KUBE_HARNESS_CACHE", REAL_CACHE)
    pytester.makepyfile(test_inner=INNER)
    html = pytester.path / "out" / "report.html"
    result = pytester.runpytest_subprocess("--kh-node-image", node_image, f"--kh-html={html}", "-rA",
                                           "-p", "no:cacheprovider", timeout=900)  # fmt: skip
    own_outcomes(result, passed=1, failed=1)  # the failure is the one on purpose
    page = render(html, html.parent / "report.png")
    assert any("phase-timeline" in where for where in page.svg_in), "no phase timeline drawn"
    assert any("fault-timeline" in where for where in page.svg_in), "no fault timeline drawn"
    text = " ".join(page.text)
    assert "fault kill-node on" in text and "NotReady" in text and "deleted (evicted)" in text
    bundle = page.links.get("bundle")
    assert bundle, "no bundle link"
    assert (html.parent / bundle / "failure.txt").is_file(), f"the bundle link {bundle} leads nowhere"
    assert not page.fetches, f"the page fetches or runs something: {page.fetches}"
    assert (html.parent / "report.png").stat().st_size > 50_000  # a page, not a blank
