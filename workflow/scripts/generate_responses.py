"""Rule generate_responses: greedy responses of one run to one test set in one language."""

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.generate import DecodingParams, GenerateSettings, RunId, generate_responses  # noqa: E402

setup_logging(snakemake)  # noqa: F821
settings = GenerateSettings.from_config({"generate": {**snakemake.params.settings, **operational(snakemake, "generate")}})  # noqa: F821
generate_responses(
    snakemake.input.prompts,  # noqa: F821
    snakemake.input.run,  # noqa: F821
    snakemake.input.base,  # noqa: F821
    snakemake.output.generations,  # noqa: F821
    RunId(**snakemake.params.run),  # noqa: F821
    DecodingParams(**{**snakemake.params.decoding, "stop": tuple(snakemake.params.decoding["stop"])}),  # noqa: F821
    dataclasses.replace(settings, threads=snakemake.threads),  # noqa: F821
    on_bad_line=snakemake.params.on_bad_line,  # noqa: F821
)
