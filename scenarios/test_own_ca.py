"""Bring your own CA (kinder's ``external-ca`` workflow, done kubeadm's "custom certificates" way):
a CA made beforehand, given as ``spec.ca``, is placed on the first control plane before ``kubeadm
init``, and everything the cluster issues chains to it. The cluster is the test's own (one control
plane, one worker), on the session's provider."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from harness.cluster import Cluster
from harness.scenarios import join, pki
from harness.spec.ca import CA_CERT, CA_KEY

pytestmark = pytest.mark.kh_disruptive


def test_every_cluster_certificate_chains_to_your_ca(cluster_factory: Callable[..., Cluster], cluster_provider: str,
                                                     tmp_path: Path) -> None:  # fmt: skip
    if cluster_provider == "existing":
        pytest.skip("the existing provider makes no cluster: there is no init to give a CA to")
    crt, key = pki.make_ca(tmp_path / "pki", name="an operator's own CA")
    cluster = cluster_factory(control_planes=1, workers=1, ca={"cert": str(crt), "key": str(key)})
    ours = x509.load_pem_x509_certificate(crt.read_bytes())
    cp, worker = cluster.control_planes[0], cluster.workers[0]
    placed = x509.load_pem_x509_certificate(cp.read_file(CA_CERT).encode())
    assert placed == ours, f"{CA_CERT} on {cp.name} is {placed.subject.rfc4514_string()}, not the CA given"
    certs = pki.load_certs(cp)
    assert certs["ca.crt"] == ours
    problems = pki.problems_with_chain(certs)  # apiserver, apiserver-kubelet-client, ... issued by ca.crt
    facts = pki.kubeconfig_facts(Path(cluster.kubeconfig).read_text(), ours)
    if facts["ca_matches"] != "True" or facts.get("signed_by_ca") != "True":
        problems.append(f"the admin kubeconfig does not trust or chain to the CA given: {facts}")
    kubelets = join.issued_kubelet_certs(cluster)
    for node in (cp.name, worker.name):
        if node not in kubelets:
            problems.append(f"no kubelet client certificate issued for {node}")
        elif pki.issued_by(f"kubelet client of {node}", kubelets[node], "the CA given", ours):
            problems.append(f"kubelet client certificate of {node} is not signed by the CA given")
    assert not problems, "certificates that do not chain to the CA given:\n" + "\n".join(problems)
    mode = cp.exec("stat", "-c", "%a", CA_KEY).stdout.strip()
    assert mode == "600", f"{CA_KEY} on {cp.name} has mode {mode}"
    assert not worker.command("test", "-e", CA_KEY).run(check=False).ok, f"the CA key reached worker {worker.name}"
