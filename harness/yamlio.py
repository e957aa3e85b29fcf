"""YAML as a person would write it: PyYAML's dumper writes ``&id001`` anchors and ``*id001`` aliases
when one object appears twice (the same node labels on two nodes, say), which a user copying a
generated kind or kubeadm config does not expect. Every config the harness writes goes through here."""

from __future__ import annotations

from typing import Any

import yaml


class _PlainDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(doc: Any, sort_keys: bool = False) -> str:
    return yaml.dump(doc, Dumper=_PlainDumper, sort_keys=sort_keys)


def dump_all(docs: list[Any], sort_keys: bool = False) -> str:
    return yaml.dump_all(docs, Dumper=_PlainDumper, sort_keys=sort_keys)
