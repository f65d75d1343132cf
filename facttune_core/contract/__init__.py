"""The contract: what a plugin author reads (hooks, records, protocols, errors, the registry)."""
