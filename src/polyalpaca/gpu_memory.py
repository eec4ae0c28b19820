"""GPU memory per GPU of a job, from the model's shape and the tuning, and the GPU count that fits it.

The model (bytes; N parameters, P processes = GPUs, h hidden size, L layers, V vocabulary, T tokens of
one micro-batch; settings under ``resources.memory``):

- **model states** (mixed precision with Adam): bf16 weights 2N, bf16 gradients 2N, fp32 master
  weights + Adam moments 12N. ZeRO-2 shards gradients and optimizer states over P, ZeRO-3 also the
  weights. LoRA (no DeepSpeed) keeps the frozen bf16 weights 2N on every GPU: extra GPUs would be
  replicas, so a LoRA job that does not fit one GPU does not fit at all.
- **ZeRO working buffers**: ZeRO-3 gathers each module before it runs (the largest is a decoder layer,
  12h² parameters, or the embedding, V·h), prefetches the next (``stage3_prefetch_bucket_size`` "auto"
  = 0.9h²) and reduces gradients in fp32 buckets (``reduce_bucket_size`` "auto" = h², two with
  ``overlap_comm``); ZeRO-2 has the reduce and all-gather buckets.
- **activations**, per GPU (never sharded), growing with T: without checkpointing L·T·h·34 bytes
  (Korthikanti et al. 2022, bf16, without the s² attention term: SDPA does not store the score
  matrix); with activation checkpointing each layer keeps only its bf16 input (2 bytes per h) and one
  layer is recomputed at a time (34 bytes per h).
- **logits**: T·V·14 bytes (bf16 logits, the fp32 upcast of the loss, its log-softmax, the gradient);
  for BLOOM's 250k vocabulary this outweighs the activations.
- **CUDA context**, cuBLAS workspace and NCCL buffers: a fixed ``cuda_overhead_gb``.
- **generation**: one GPU holds the bf16 weights, the KV cache of one batch (2·L·h·2 bytes per token)
  and the last position's fp32 logits.

Checkpoint saves do not add GPU memory (ZeRO-3 gathers the 16-bit weights module by module into host
memory); they add host memory and time (``resources.host_memory_mb``, ``resources.runtime_for``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from .errors import ConfigError

GB = 1024**3
ACTIVATION_BYTES_PER_TOKEN = 34  # x hidden per layer: Korthikanti et al. (2022), Table 2, bf16, SDPA
# A decoder layer has ~12 h^2 parameters (attention 4 h^2 + MLP 8 h^2).
LAYER_PARAMS_PER_H2 = 12
# Shape of a model without `arch`: hidden/layers ~128 (LLaMA-7B 4096/32, LLaMA-13B 5120/40, Pythia-1B 2048/16).
HIDDEN_PER_LAYER = 128
DEFAULT_VOCAB = 50_000


@dataclass(frozen=True)
class Arch:
    hidden_size: int
    layers: int
    vocab_size: int
    estimated: bool  # derived from params_b because the config gives no `arch`


@dataclass(frozen=True)
class Footprint:
    """GB per GPU, by component."""

    weights: float = 0.0
    gradients: float = 0.0
    optimizer: float = 0.0
    zero_buffers: float = 0.0
    activations: float = 0.0
    logits: float = 0.0
    kv_cache: float = 0.0
    overhead: float = 0.0

    @property
    def total(self) -> float:
        return sum(getattr(self, f.name) for f in fields(self))

    def breakdown(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name):.1f}" for f in fields(self) if getattr(self, f.name) > 0.05)


@dataclass(frozen=True)
class Fit:
    """The GPUs a job gets and its memory per GPU; ``gpus`` is None when no count up to max_per_job works."""

    gpus: int | None
    footprint: Footprint
    reason: str = ""


def model_arch(config: dict, model: str) -> Arch:
    """The model's hidden size, layers and vocabulary: ``models.<m>.arch``, else estimated from params_b."""
    spec = config["models"][model]
    if "arch" in spec:
        a = spec["arch"]
        return Arch(a["hidden_size"], a["layers"], a["vocab_size"], estimated=False)
    if "tiny" in spec:
        t = spec["tiny"]
        return Arch(t["hidden_size"], t["layers"], t.get("vocab_size", DEFAULT_VOCAB), estimated=False)
    # N ~ 12 L h^2 with h = 128 L  =>  h^3 ~ 128 N / 12
    hidden = (HIDDEN_PER_LAYER * spec["params_b"] * 1e9 / LAYER_PARAMS_PER_H2) ** (1 / 3)
    return Arch(int(hidden), max(1, round(hidden / HIDDEN_PER_LAYER)), DEFAULT_VOCAB, estimated=True)


def model_params(config: dict, model: str) -> float:
    """Parameters of ``model``: ``params_b``, or for a tiny offline build its real count (its ``params_b``
    is the size it stands for on figure axes, not what a job loads)."""
    spec = config["models"][model]
    if "tiny" in spec:
        arch = model_arch(config, model)
        return LAYER_PARAMS_PER_H2 * arch.layers * arch.hidden_size ** 2 + 2 * arch.vocab_size * arch.hidden_size
    return spec["params_b"] * 1e9


def _memory(config: dict) -> dict:
    return config["resources"]["memory"]


def train_footprint(config: dict, model: str, tuning: str, processes: int,
                    checkpointing: bool | None = None) -> Footprint:
    """GPU memory (GB) per GPU of a training run of ``model`` with ``tuning`` over ``processes`` GPUs
    (activation checkpointing as ``train.gradient_checkpointing`` says, unless ``checkpointing`` is given)."""
    from .train.settings import TrainSettings, resolve_tuning  # no torch: settings only

    t = resolve_tuning(config, model, tuning)
    arch = model_arch(config, model)
    mem = _memory(config)
    n = model_params(config, model)
    h, layers, vocab = arch.hidden_size, arch.layers, arch.vocab_size
    tokens = t.batch_tokens if t.token_batches else t.micro_batch_size * t.max_length
    if checkpointing is None:
        checkpointing = TrainSettings.from_config(config["train"]).checkpoints_activations(t.method)
    per_layer = mem["checkpoint_bytes_per_token"] * layers + ACTIVATION_BYTES_PER_TOKEN if checkpointing \
        else ACTIVATION_BYTES_PER_TOKEN * layers
    activations = tokens * h * per_layer
    logits = tokens * vocab * mem["logits_bytes_per_token"]
    if t.method == "lora":  # frozen weights on every GPU; adapters and their Adam states are ~1% of them
        weights, grads, optim, buffers = 2 * n * 1.01, 0.0, 0.0, 0.0
    else:
        stage = t.deepspeed_stage
        shard = processes if stage in (2, 3) else 1
        weights = 2 * n / (processes if stage == 3 else 1)
        grads = 2 * n / shard
        optim = 12 * n / shard
        if stage == 3:
            live = min(1e9, max(LAYER_PARAMS_PER_H2 * h * h, vocab * h))  # stage3_max_live_parameters = 1e9
            buffers = 2 * live + 2 * 0.9 * h * h + 2 * 4 * h * h
        elif stage == 2:
            buffers = 2 * 4 * h * h + 2 * h * h
        else:
            buffers = 0.0
    return Footprint(weights=weights / GB, gradients=grads / GB, optimizer=optim / GB, zero_buffers=buffers / GB,
                     activations=activations / GB, logits=logits / GB, overhead=mem["cuda_overhead_gb"])


def inference_footprint(config: dict, model: str, context_tokens: int, batch_size: int) -> Footprint:
    """GPU memory (GB) of batched decoding on one GPU: weights, KV cache of a batch, last logits."""
    arch = model_arch(config, model)
    n = model_params(config, model)
    kv = batch_size * context_tokens * 2 * arch.layers * arch.hidden_size * 2
    logits = batch_size * arch.vocab_size * 4
    return Footprint(weights=2 * n / GB, kv_cache=kv / GB, logits=logits / GB,
                     overhead=_memory(config)["cuda_overhead_gb"])


def usable_gb(config: dict) -> float:
    gpu = config["resources"]["gpu"]
    return gpu["mem_gb"] * gpu["usable_fraction"]


def _divides(config: dict, model: str, tuning: str, processes: int) -> str:
    """'' when the tuning's global batch splits over ``processes``, else the reason."""
    from .train.settings import resolve_tuning

    try:
        resolve_tuning(config, model, tuning).accumulation_steps(processes)
    except ConfigError as err:
        return str(err)
    return ""


def fit_train(config: dict, model: str, tuning: str) -> Fit:
    """The fewest GPUs (a power of two, at most ``resources.gpu.max_per_job``) whose per-GPU memory fits
    and over which the tuning's global batch divides; otherwise ``gpus=None`` and why."""
    gpu = config["resources"]["gpu"]
    limit = usable_gb(config)
    reasons = []
    counts = [2**k for k in range(int(math.log2(gpu["max_per_job"])) + 1)]
    for count in counts:
        footprint = train_footprint(config, model, tuning, count)
        if footprint.total > limit:
            continue
        reason = _divides(config, model, tuning, count)
        if not reason:
            return Fit(count, footprint)
        reasons.append(f"{count} GPUs fit memory but {reason}")
    smallest = train_footprint(config, model, tuning, counts[-1])
    if not reasons:
        method = config["tunings"][tuning]["method"]
        what = ("LoRA runs without DeepSpeed hold the whole model on every GPU"
                if method == "lora" else f"even on {counts[-1]} GPUs")
        reasons.append(f"needs {smallest.total:.1f} GB per GPU ({smallest.breakdown()}) > "
                       f"{limit:.1f} usable of {gpu['mem_gb']} GB: {what}")
        recomputed = train_footprint(config, model, tuning, counts[-1], checkpointing=True)
        if recomputed.total < smallest.total:
            fits = "fits" if recomputed.total <= limit else "still does not fit"
            reasons.append(f"with train.gradient_checkpointing: true it needs {recomputed.total:.1f} GB ({fits})")
    return Fit(None, smallest, "; ".join(reasons))


def fit_inference(config: dict, model: str, context_tokens: int, batch_size: int) -> Fit:
    """One GPU when the model and a batch's KV cache fit it (decoding runs on a single device)."""
    footprint = inference_footprint(config, model, context_tokens, batch_size)
    limit = usable_gb(config)
    if footprint.total > limit:
        reason = (f"needs {footprint.total:.1f} GB ({footprint.breakdown()}) on one GPU > "
                  f"{limit:.1f} usable of {config['resources']['gpu']['mem_gb']} GB")
        smaller = [b for b in range(batch_size - 1, 0, -1)
                   if inference_footprint(config, model, context_tokens, b).total <= limit]
        if smaller:
            reason += f"; generate.batch_size: {smaller[0]} would fit"
        return Fit(None, footprint, reason)
    return Fit(1, footprint)
