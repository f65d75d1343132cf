"""The scoring science, pure functions: sentences → claims, the judge prompts and parsers, the one
FActScore (``claim_scores``), metrics and bootstrap CIs, the pair rules, judge calibration. Imports
only the contract."""
