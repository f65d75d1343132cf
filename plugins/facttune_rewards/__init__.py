"""facttune bundled plugin 'rewards' (work in progress)."""
