"""The operator's flow as phases, and the engine that runs them."""

from harness.phases.engine import Context, Engine, Phase, PhaseFailed

__all__ = ["Context", "Engine", "Phase", "PhaseFailed"]
