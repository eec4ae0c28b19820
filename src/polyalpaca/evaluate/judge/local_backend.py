"""A local transformers model as judge, in one of two ways (``judges.<name>.local_answer``):

* ``label_probs`` — the answer is read from the probabilities of the label tokens ("1"/"2"/"3", "0"/"1",
  "A"/"B"/"C") after the template's answer prefix: always a verdict, no free text to parse (the Vicuna
  pair format: the first score's label, then the second's after it, written back as "8 6").
* ``generate`` — the model writes its answer (greedy; a parse retry samples at
  ``evaluate.judge.parse_retry_temperature`` with a new seed) and the parsers read it exactly as an API
  judge's answer: what no parser accepts is counted as unparsed and ends as the item's error. This is
  the honest mode for a real instruction-tuned model, which may not follow the output format.

In both, the chat messages are rendered with the tokenizer's chat template when it has one, otherwise as plain
text (base models). The answer is written back in the template's output format (``Rating: [[2]]``,
a JSON object for criteria, ...) so the same parser reads it, and the label probabilities are kept
in ``extra["probs"]``. Runs on a GPU when one is visible, else on CPU.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path

from ...errors import ConfigError
from .calls import Answer, Call, ItemError
from .settings import JudgeConfig, JudgeSettings

log = logging.getLogger(__name__)

_WRITE_BACK = {
    "rating_1_3": lambda label: f"Rating: [[{label}]]",
    "binary_0_1": lambda label: label,
    "last_digit_0_1": lambda label: label,
    "pair_verdict": lambda label: f"[[{label}]]",
}
# formats whose answer is two labels, "<score 1> <score 2>" (the Vicuna review line of Bactrian-X §6)
_TWO_LABELS = ("vicuna_pair",)


def model_fingerprint(model_dir: Path) -> str:
    """Changes when the model folder's files change (a rebuilt tiny model must not hit old answers)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(model_dir)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


class LocalBackend:
    """Label-probability judge on a causal LM from ``resources/models/{model}``."""

    max_concurrency = 1  # one forward pass at a time; the model uses the job's threads

    def __init__(self, judge: JudgeConfig, settings: JudgeSettings, model_dir: str | Path, threads: int = 1):
        self.judge = judge
        self.settings = settings
        self.model_dir = Path(model_dir)
        if not (self.model_dir / "config.json").is_file():
            raise ConfigError(f"judges.{judge.name}.model: {self.model_dir} holds no model (config.json missing); "
                              f"build or fetch models.{judge.model} first")
        self.threads = threads
        self.cache_model = f"local:{judge.model}@{model_fingerprint(self.model_dir)}"
        self.secret = None
        self._model = self._tokenizer = None

    def params(self, template, attempt: int) -> dict:
        """label_probs is deterministic (a parse retry would read the same probabilities, so ``attempt`` is
        ignored); generate is greedy first, then sampled with a new seed per retry."""
        if self.judge.local_answer == "generate":
            return {"method": "generate", "max_new_tokens": min(template.max_tokens, self.judge.local_max_new_tokens),
                    "temperature": 0.0 if attempt == 0 else self.settings.parse_retry_temperature,
                    "seed": self.settings.seed + attempt}
        if template.output_format not in (*_WRITE_BACK, *_TWO_LABELS) and template.output_format != "criteria_json":
            raise ConfigError(f"{template.path}: the local judge backend cannot answer in output_format "
                              f"{template.output_format!r} (it reads one label: {', '.join(_WRITE_BACK)}, two: "
                              f"{', '.join(_TWO_LABELS)}, or criteria_json)")
        if template.local is None:
            raise ConfigError(f"{template.path}: the local judge backend needs a 'local' section "
                              "(answer_prefix, labels) in the template")
        return {"method": "label_probs", "answer_prefix": template.local.answer_prefix,
                "labels": list(template.local.labels)}

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(max(1, self.threads))
        self._device = "cuda" if torch.cuda.is_available() else "cpu"
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        self._model = AutoModelForCausalLM.from_pretrained(self.model_dir, dtype=torch.float32).to(self._device)
        self._model.eval()
        self._max_positions = getattr(self._model.config, "max_position_embeddings", None) or 2048
        log.info("local judge %s loaded from %s on %s", self.judge.name, self.model_dir, self._device)

    def _prompt(self, messages: list[dict]) -> str:
        tok = self._tokenizer
        if getattr(tok, "chat_template", None):
            return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(m["content"] for m in messages) + "\n\n"

    def _label_probs(self, text: str, labels: tuple[str, ...]) -> tuple[dict[str, float], int]:
        import torch

        tok = self._tokenizer
        base = tok(text).input_ids
        label_ids = [tok(label, add_special_tokens=False).input_ids for label in labels]
        if len(base) + max(map(len, label_ids)) > self._max_positions:
            raise ItemError(f"prompt of {len(base)} tokens exceeds the local judge's context "
                            f"({self._max_positions} tokens)")
        with torch.inference_mode():
            if all(len(ids) == 1 for ids in label_ids):  # one forward pass, next-token distribution
                logits = self._model(torch.tensor([base], device=self._device)).logits[0, -1]
                scores = torch.log_softmax(logits.float(), -1)[[ids[0] for ids in label_ids]]
            else:  # multi-token labels: log-probability of each continuation
                scores = []
                for ids in label_ids:
                    seq = torch.tensor([base + ids], device=self._device)
                    logp = torch.log_softmax(self._model(seq).logits[0].float(), -1)
                    positions = torch.arange(len(base) - 1, len(base) + len(ids) - 1, device=self._device)
                    scores.append(logp[positions, torch.tensor(ids, device=self._device)].sum())
                scores = torch.stack(scores)
            probs = torch.softmax(scores, -1).tolist()
        return {label: round(p, 6) for label, p in zip(labels, probs)}, len(base)

    def _generate(self, prompt: str, params: dict) -> Answer:
        import torch

        tok = self._tokenizer
        ids = tok(prompt, return_tensors="pt", add_special_tokens=False).input_ids.to(self._device)
        if ids.shape[1] + params["max_new_tokens"] > self._max_positions:
            raise ItemError(f"prompt of {ids.shape[1]} tokens plus {params['max_new_tokens']} new ones exceeds the "
                            f"local judge's context ({self._max_positions} tokens)")
        sample = params["temperature"] > 0
        torch.manual_seed(params["seed"])
        eos = tok.eos_token_id if tok.eos_token_id is not None else self._model.generation_config.eos_token_id
        with torch.inference_mode():
            out = self._model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=params["max_new_tokens"],
                do_sample=sample, temperature=params["temperature"] if sample else None, top_p=None, top_k=None,
                eos_token_id=eos, pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else eos)
        new = out[0, ids.shape[1]:].tolist()
        return Answer(text=tok.decode(new, skip_special_tokens=True).strip(), model=self.cache_model,
                      prompt_tokens=ids.shape[1], completion_tokens=len(new),
                      extra={"finished": bool(new) and new[-1] == eos})

    def _complete_sync(self, call: Call) -> Answer:
        if self._model is None:
            self._load()
        template = call.template
        prompt = self._prompt(call.messages)
        if call.params["method"] == "generate":
            return self._generate(prompt, call.params)
        prefix, labels = call.params["answer_prefix"], tuple(call.params["labels"])
        best = lambda probs: max(probs, key=probs.get)  # noqa: E731
        if template.output_format == "criteria_json":
            probs, tokens = {}, 0
            for criterion in template.criteria:
                probs[criterion], n = self._label_probs(prompt + prefix.replace("{criterion}", template.criterion_key(criterion)), labels)
                tokens += n
            text = json.dumps({c: int(best(p)) for c, p in probs.items()})
        elif template.output_format in _TWO_LABELS:  # two scores: the first, then the second after it
            first, tokens = self._label_probs(prompt + prefix, labels)
            second, n = self._label_probs(prompt + prefix + best(first) + " ", labels)
            probs, tokens = {"first": first, "second": second}, tokens + n
            text = f"{best(first)} {best(second)}"
        else:
            probs, tokens = self._label_probs(prompt + prefix, labels)
            text = _WRITE_BACK[template.output_format](best(probs))
        return Answer(text=text, model=self.cache_model, prompt_tokens=tokens, completion_tokens=0,
                      extra={"probs": probs})

    async def complete(self, call: Call) -> Answer:
        return await asyncio.to_thread(self._complete_sync, call)

    async def aclose(self) -> None:
        return None
