"""Rule generate_responses: greedy responses of one run to one test set in one language."""

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.generate import DecodingParams, GenerateSettings, RunId, generate_responses  # noqa: E402

setup_logging(snakemake)
settings = GenerateSettings.from_config({"generate": {**snakemake.params.settings, **operational(snakemake, "generate")}})
generate_responses(
    snakemake.input.prompts,
    snakemake.input.run,
    snakemake.input.base,
    snakemake.output.generations,
    RunId(**snakemake.params.run),
    DecodingParams(**{**snakemake.params.decoding, "stop": tuple(snakemake.params.decoding["stop"])}),
    dataclasses.replace(settings, threads=snakemake.threads),
    on_bad_line=snakemake.params.on_bad_line,
)
