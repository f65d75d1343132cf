"""What a person reads: terminal tables, the HTML report and its parts, plots, the overview of any run
folder, the score report, compare's tables and the component reference (user text always escaped).
Imports the run engine and below."""
