"""Paths of the round-trip outputs (DESIGN.md), apart from the plan so the scripts' code hash stays small."""

ROUNDTRIP = "results/roundtrip/{source}/{lang}.jsonl"
ROUNDTRIP_SCORES = "results/roundtrip/{source}/{lang}.scores.json"
