"""The host: what it can do (doctor) and making it able (prepare)."""
