"""facttune bundled plugin 'hf' (work in progress)."""
