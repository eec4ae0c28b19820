"""The generate and surface-metric rules through Snakemake, on the smoke config, from prepared inputs.

Upstream stages are not run: the test places a tiny base model, a LoRA adapter on it and test prompts
where the rules expect them, then asks Snakemake for the LID and spellcheck scores of that run.
"""

import json
import subprocess
import sys

import pytest

from polyalpaca.io import read_jsonl, write_jsonl
from polyalpaca.tiny import build_causal_model

from .conftest import REPO

RUN = "tiny-llama/lima-en/zs-lora-lr1e-4"
PROMPTS = ["Donne trois conseils pour rester en bonne santé.", "Quelle est la capitale de la France ?",
           "Écris un poème sur la mer.", "Explique la photosynthèse en termes simples."]


@pytest.fixture
def workdir(tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = build_causal_model("llama", tmp_path / "resources/models/tiny-llama", PROMPTS * 5, hidden_size=64,
                              vocab_size=800, seed=5)
    run_dir = tmp_path / "results/models" / RUN
    torch.manual_seed(0)
    lora = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), lora).save_pretrained(run_dir)
    AutoTokenizer.from_pretrained(base).save_pretrained(run_dir)
    (run_dir / "train_log.json").write_text(json.dumps({"method": "lora"}))
    write_jsonl(tmp_path / "results/testsets/alpacafarm_eval/fr.jsonl",
                [{"id": f"af-{i}", "prompt": p, "lang": "fr", "testset": "alpacafarm_eval"} for i, p in enumerate(PROMPTS)])
    (tmp_path / "Snakefile").write_text("\n".join(
        f'include: "{REPO}/rules/{name}.smk"' for name in ("common", "generate", "metrics")) + "\n")
    return tmp_path


def test_generate_and_surface_scores_through_snakemake(workdir):
    targets = [f"results/scores/{metric}/{RUN}/alpacafarm_eval/fr.jsonl" for metric in ("lid", "spell")]
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--resources", "gpu=0", "--configfile",
         str(REPO / "tests/smoke/config.yaml"), "--set-threads", "generate_responses=1",
         "--allowed-rules", "generate_responses", "score_lid", "score_spellcheck", "--", *targets],
        cwd=workdir, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    gens = read_jsonl(workdir / f"results/generations/{RUN}/alpacafarm_eval/fr.jsonl")
    assert [g["id"] for g in gens] == ["af-0", "af-1", "af-2", "af-3"]
    assert {g["decoding"] for g in gens} == {"zs-greedy"} and all(g["tuning"] == "zs-lora-lr1e-4" for g in gens)
    for metric, target in zip(("lid", "spell"), targets):
        scores = read_jsonl(workdir / target)
        assert [s["id"] for s in scores] == ["af-0", "af-1", "af-2", "af-3"]
        for s in scores:
            assert s["metric"] == metric and s["lang"] == "fr"
            # a value in [0, 1], or none with the reason (random models write no real words)
            assert (s["value"] is None and s["error"]) or 0.0 <= s["value"] <= 1.0
    assert (workdir / f"logs/generate/{RUN}/alpacafarm_eval/fr.log").stat().st_size > 0
    assert (workdir / f"results/benchmarks/generate/{RUN}/alpacafarm_eval/fr.tsv").is_file()
