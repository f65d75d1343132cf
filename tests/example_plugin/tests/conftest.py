pytest_plugins = ["facttune_core.testing"]  # fixtures: fake_registry (installed plugins + fakes, private cache)
