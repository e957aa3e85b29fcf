"""Container providers (Docker today; the engine CLI is a parameter): with the host layer and image
building, the only place in harness/ that talks to a container engine."""
