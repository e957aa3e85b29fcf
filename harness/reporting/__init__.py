"""Run records (JSON), later JUnit/HTML reports and failure bundles built from them."""
