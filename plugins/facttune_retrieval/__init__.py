"""facttune bundled plugin 'retrieval' (work in progress)."""
