"""The rules a ClusterSpec's values are checked against, each derived from the validation of the
layer that would refuse the value later (kubeadm, kube-apiserver, kind, the kubelet's flag files)
and citing it. Plain functions raising ``ValueError``; :mod:`harness.spec.model` applies them.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BeforeValidator

from harness import yamlio
from harness.spec.failover import KUBEADM_API

# kubeadm validation.go getClusterNodeMask: defaultNodeMaskCIDRIPv4 = 24, kube-controller-manager's default
# --node-cidr-mask-size-ipv4 (a node-cidr-mask-size patch is not taken into account here).
NODE_CIDR_PREFIX = 24
# kubeadm cmd/kubeadm/app/constants/constants.go, applied by validation.go ValidateNetworking:
MIN_SERVICE_ADDRESSES = 10  # MinimumAddressesInServiceSubnet (CoreDNS gets the 10th address): /28 at the smallest
MAX_SERVICE_HOST_BITS = 20  # MaximumBitsForServiceSubnet, = kube-apiserver validateClusterIPFlags maxCIDRBits: /12
MIN_POD_ADDRESSES = 14  # MinimumAddressesInPodSubnet
POD_NODE_MASK_MAX_DIFF = 16  # PodSubnetNodeMaskMaxDiff: node mask 24 - pod prefix <= 16, so /8 at the largest
SERVICE_PREFIXES = (32 - MAX_SERVICE_HOST_BITS, 32 - (MIN_SERVICE_ADDRESSES - 1).bit_length())  # (12, 28)
POD_PREFIXES = (NODE_CIDR_PREFIX - POD_NODE_MASK_MAX_DIFF, NODE_CIDR_PREFIX)
LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# kind pkg/internal/apis/config/validate.go validNameRE allows ^[a-z0-9.-]+$; the harness is stricter: a DNS-1123
# label, and at most 40 characters so kind's (common/namer.go MakeNodeNamer) and the kubeadm provider's node name
# <name>-external-load-balancer stays within a 63-character hostname.
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$")
NAME_MAX = 40
FEATURE_GATE_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
FLAG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]+)?"
IMAGE_RE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?(?:@[a-z0-9]+:[0-9a-f]{{32,}})?$"
)
# kind matches patches on kind (+ apiVersion when given); a wrong apiVersion silently patches nothing.
PATCH_API_VERSIONS = {
    "ClusterConfiguration": KUBEADM_API,
    "InitConfiguration": KUBEADM_API,
    "JoinConfiguration": KUBEADM_API,
    "KubeletConfiguration": "kubelet.config.k8s.io/v1beta1",
    "KubeProxyConfiguration": "kubeproxy.config.k8s.io/v1alpha1",
}
GATED_COMPONENTS = ("apiServer", "controllerManager", "scheduler")


def dns_name(value: str) -> str:
    labels = value.split(".")
    if len(value) > 253 or not all(len(label) <= 63 and LABEL_RE.fullmatch(label) for label in labels):
        raise ValueError(f"{value!r} is not a DNS name (lowercase labels of a-z, 0-9 and '-', joined by '.')")
    return value


def ipv4_cidr(value: str) -> ipaddress.IPv4Network:
    if "," in value:  # kubeadm ValidateIPNetFromString and kind validateSubnets take "v4,v6" for dual-stack
        raise ValueError(
            f"{value!r} is a list of ranges (kubeadm's dual-stack form); the harness builds IPv4 single-stack "
            f"clusters only: give one IPv4 CIDR"
        )
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as e:
        raise ValueError(f"{value!r} is not a CIDR such as 10.244.0.0/16 ({e})") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError(f"{value!r} is IPv6; the harness builds IPv4 clusters only")
    return net


CONTROL_CATEGORIES = {"Cc": "control", "Cf": "invisible format", "Zl": "line separator", "Zp": "paragraph separator"}


def _control_chars(value: str, allow: str = "") -> str | None:
    """The first control or invisible format character of ``value`` (Unicode Cc, Cf, Zl, Zp), described, or None."""
    for i, char in enumerate(value):
        category = unicodedata.category(char)
        if char in allow or category not in CONTROL_CATEGORIES:
            continue
        line, column = value.count("\n", 0, i) + 1, i - (value.rfind("\n", 0, i) + 1) + 1
        where = f"line {line}, column {column}" if line > 1 or "\n" in value.rstrip("\n") else f"position {column}"
        name = unicodedata.name(char, "")
        return f"the {CONTROL_CATEGORIES[category]} character U+{ord(char):04X}{' ' + name if name else ''} at {where}"
    return None


def plain_text(value: str) -> str:
    bad = _control_chars(value)
    if bad:
        raise ValueError(f"contains {bad}; remove it (only printable text is allowed)")
    return value


Text = Annotated[str, AfterValidator(plain_text)]
# kubeadm phases/kubelet/flags.go WriteKubeletArgsToFile writes kubeletExtraArgs space-joined as
# KUBELET_KUBEADM_ARGS="--a=b --c=d" (Go %q quoting) into kubeadm-flags.env, the harness writes joining nodes' flags
# space-joined into /etc/default/kubelet, and the unit's ExecStart expands them unbraced (systemd splits on
# whitespace); ReadKubeletDynamicEnvFile (kubeadm upgrade) splits on whitespace and trims quotes without unescaping.
# So a value is printable ASCII without whitespace, quotes, backslash, '$' or '`' (systemd env-file metacharacters).
FLAG_VALUE_FORBIDDEN = {'"': "a double quote", "'": "a single quote", "\\": "a backslash", "$": "a '$'", "`": "a '`'"}


def flag_value_problem(value: str) -> str | None:
    """The first character of a kubelet flag value that the flag files cannot carry, described, or None."""
    for i, char in enumerate(value):
        if char in " \t\n\r\v\f" or unicodedata.category(char) == "Zs":
            kind = "whitespace"
        elif char in FLAG_VALUE_FORBIDDEN:
            kind = FLAG_VALUE_FORBIDDEN[char]
        elif not " " < char < "\x7f":
            kind = "non-ASCII" if ord(char) > 0x7F else "a control character"
        else:
            continue
        return f"{char!r} ({kind}) at position {i + 1}"
    return None


def _patch_text(value: Any) -> Any:
    """A patch may be written as a mapping in YAML; it is stored as YAML text like kind's."""
    return yamlio.dump(value, sort_keys=False) if isinstance(value, dict) else value


def _strings(doc: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string key and value of a parsed YAML document, with a dotted path."""
    if isinstance(doc, str):
        return [(path or "(document)", doc)]
    if isinstance(doc, dict):
        out = [(f"{path}.{k}" if path else str(k), k) for k in doc if isinstance(k, str)]
        return out + [s for k, v in doc.items() for s in _strings(v, f"{path}.{k}" if path else str(k))]
    if isinstance(doc, list):
        return [s for i, v in enumerate(doc) for s in _strings(v, f"{path}[{i}]")]
    return []


def _check_patch(text: str) -> str:
    bad = _control_chars(text, allow="\n\t")
    if bad:  # kind/kubeadm re-parse the text; raw control characters break YAML or the config silently
        raise ValueError(f"contains {bad}; only newline and tab are allowed")
    try:
        doc = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"not one valid YAML document{where}: {e.problem or e.context}") from None
    if not isinstance(doc, dict) or "kind" not in doc:
        raise ValueError("must be a YAML mapping with a 'kind' (e.g. 'kind: ClusterConfiguration')")
    kind, api = doc["kind"], doc.get("apiVersion")
    if not isinstance(kind, str) or kind not in PATCH_API_VERSIONS:
        raise ValueError(f"kind {kind!r} is not a kubeadm config kind (allowed: {', '.join(PATCH_API_VERSIONS)})")
    if api is not None and api != PATCH_API_VERSIONS[kind]:
        raise ValueError(f"apiVersion {api!r} would patch nothing: kind generates {kind} as {PATCH_API_VERSIONS[kind]}")
    for where, string in _strings(doc):  # escapes such as "\a" in quoted scalars decode to control characters
        bad = _control_chars(string, allow="\n\t")
        if bad:
            raise ValueError(f"{where}: the decoded text contains {bad}; remove it")
    return text


KubeadmPatch = Annotated[str, BeforeValidator(_patch_text), AfterValidator(_check_patch)]
