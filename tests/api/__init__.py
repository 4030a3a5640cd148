"""Library-level tests: the dashboard client and the fake dashboard, without Home Assistant."""
