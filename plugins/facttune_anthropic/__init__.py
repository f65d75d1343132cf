"""facttune bundled plugin 'anthropic' (work in progress)."""
