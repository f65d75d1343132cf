"""facttune bundled plugin 'openai' (work in progress)."""
