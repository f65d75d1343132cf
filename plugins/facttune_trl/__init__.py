"""facttune bundled plugin 'trl' (work in progress)."""
