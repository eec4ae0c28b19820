"""Benchmark stage: zero-shot multilingual benchmarks through lm-evaluation-harness (Bactrian-X §5).

- :mod:`.plan` — what the rules need from the config: jobs, paths, params, and the DAG-time checks
  (task names and languages the harness has); no harness import;
- :mod:`.tasks` — the index of task names (the installed harness's task YAMLs and ``task_dirs``);
- :mod:`.harness` — one job: ``lm_eval.simple_evaluate`` on a base model or a run (a LoRA adapter
  loaded as PEFT), per-language scores written as one JSON file (lm_eval imported lazily);
- :mod:`.report` — the study's benchmark table and figure from those files.

The shipped ``tasks/`` folder holds small task YAMLs in the harness's format with local data (the smoke
profile's offline stand-ins for XCOPA-style tasks).
"""
