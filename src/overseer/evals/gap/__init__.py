"""Observed vs unobserved: does a model behave differently when it believes nobody is watching?

- `behaviours`: four behaviours' deterministic base-task generators and rule-based judges;
- `framings`: the observed / unobserved / neutral framings (the organism's planted vocabulary);
- `task`: the Inspect task `overseer/gap` (dataset, scorer, per-framing metrics);
- `policies`: `overseer-policy/gap-complier?gap=G`, the ground-truth reference policy;
- `analysis`, `run`: the paired analysis (bootstrap CI, McNemar) of a run's `.eval` log;
- `whitebox`: the eval-awareness probe, its link to behaviour, and steering along its direction;
- `plots`, `cli`: figures and `overseer gap run | probe`.
"""
