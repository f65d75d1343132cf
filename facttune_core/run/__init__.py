"""The run engine: a recipe run stage by stage into a run folder (``NN-stage-<key>/``), resumable."""
