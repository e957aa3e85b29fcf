"""The scenario library's checks: plain functions over a cluster handle, usable from pytest
(``scenarios/``), from the break-on-purpose tests (``tests/breakage/``) and from scripts.

Each check raises ``AssertionError`` whose message names the broken part (the component, the node,
the object) and what was observed, so a failing scenario says what to look at first.
"""
