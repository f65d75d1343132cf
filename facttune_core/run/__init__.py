"""The run engine: recipes, the stages (each declared once), the executor, stage folders, keys and
manifests, the readers of finished folders, `facttune score`'s pipeline. Imports the contract, the
scoring science and the API layer."""
