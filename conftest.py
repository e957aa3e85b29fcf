"""Root conftest: pytester for the plugin's own tests (the plugin itself loads via its entry point)."""

pytest_plugins = ["pytester"]
