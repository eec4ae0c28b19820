"""Round-trip translation quality (Bactrian-X §3.2, Table 2): a seeded sample of each translated source,
translated back into its source language with the same engine and scored against the original.

- :mod:`.plan` — jobs, params and the DAG-time checks (no model or metric import); :mod:`.paths`;
- :mod:`.run` — sample and back-translate one (source, language) through the translate stage's code;
- :mod:`.score` — sacrebleu BLEU and chrF++ (and COMET where installed and configured);
- :mod:`.report` — the study's table (per language, and Table 2's quantiles) and figure; pairs below
  ``chrf_floor`` are flagged.
"""
