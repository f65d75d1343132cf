"""The contract, the ground floor: what a plugin author reads (hooks, records, protocols, errors, the
typed registry and plugin manager) and the services a component is handed (the call cache, the file
store with its one error policy, where state lives, folder locks). Imports nothing else of the core."""
