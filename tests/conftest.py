pytest_plugins = ["facttune_core.testing"]
