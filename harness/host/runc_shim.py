#!/usr/bin/env python3
"""runc wrapper installed by `kube-harness host prepare` as Docker's default runtime.

Docker 20.10 asks for every capability the kernel knows when a container is ``--privileged``.
Where the capability bounding set of the host lacks some (CAP_SYS_RESOURCE on Firecracker hosts),
runc then fails with "unable to apply caps: operation not permitted". This wrapper removes from the
OCI process spec every capability outside its own bounding set, for ``create``/``run`` (the
bundle's config.json) and ``exec`` (the ``--process`` file), then execs the real runtime: runc, or
whatever OCI runtime was Docker's default-runtime before (crun, ...).

``host prepare`` bakes the runtime it found into DEFAULT_RUNC of the installed copy;
KUBE_HARNESS_REAL_RUNC in dockerd's environment overrides it.

This file is standalone: it uses only the standard library and is copied to the host with only its
shebang line and DEFAULT_RUNC rewritten.
"""

from __future__ import annotations

import json
import os
import sys

DEFAULT_RUNC = "/usr/sbin/runc"  # rewritten by `kube-harness host prepare` in the installed copy
REAL_RUNC = os.environ.get("KUBE_HARNESS_REAL_RUNC", DEFAULT_RUNC)
# Linux capability numbers, in order (capability.h).
CAP_NAMES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
]


def bounding_set() -> set[str]:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("CapBnd:"):
                mask = int(line.split()[1], 16)
                return {"CAP_" + n for i, n in enumerate(CAP_NAMES) if mask >> i & 1}
    return {"CAP_" + n for n in CAP_NAMES}


def filter_caps(process: dict, allowed: set[str]) -> bool:
    caps = process.get("capabilities") or {}
    changed = False
    for kind, names in caps.items():
        if isinstance(names, list):
            kept = [c for c in names if c in allowed]
            if len(kept) != len(names):
                caps[kind] = kept
                changed = True
    return changed


def spec_file(argv: list[str]) -> tuple[str | None, str]:
    """The JSON file to patch for this runc call and which part holds the process."""
    for i, arg in enumerate(argv):
        if arg in ("create", "run"):
            bundle = _opt(argv[i + 1 :], "--bundle", "-b") or os.getcwd()
            return os.path.join(bundle, "config.json"), "process"
        if arg == "exec":
            return _opt(argv[i + 1 :], "--process", "-p"), ""
    return None, ""


def _opt(args: list[str], long: str, short: str) -> str | None:
    for i, arg in enumerate(args):
        if arg in (long, short) and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(long + "="):
            return arg.split("=", 1)[1]
    return None


def patch(path: str, key: str, allowed: set[str]) -> None:
    with open(path) as fh:
        doc = json.load(fh)
    process = doc.get(key, {}) if key else doc
    if filter_caps(process, allowed):
        with open(path, "w") as fh:
            json.dump(doc, fh)


def main() -> None:
    argv = sys.argv[1:]
    path, key = spec_file(argv)
    if path and os.path.exists(path):
        try:
            patch(path, key, bounding_set())
        except (OSError, ValueError) as exc:  # never block the container over the shim itself
            print(f"kube-harness runc shim: could not patch {path}: {exc}", file=sys.stderr)
    os.execv(REAL_RUNC, [REAL_RUNC, *argv])


if __name__ == "__main__":
    main()
