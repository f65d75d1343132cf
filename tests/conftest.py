pytest_plugins = ["facttune_core.testing"]

# tests/example_plugin is a separate package with its own tests (and conftest): it runs them itself
# (tests/test_core_testing_kit.py runs them in a subprocess, as a plugin author would)
collect_ignore = ["example_plugin"]
