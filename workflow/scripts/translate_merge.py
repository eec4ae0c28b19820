"""Rule merge_translations: shards in source order through the quality filter; per-language report."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.translate import FilterSettings, merge_translations  # noqa: E402

setup_logging(snakemake)  # noqa: F821
merge_translations(
    snakemake.input.source, snakemake.input.shards, snakemake.output.records, snakemake.output.report,  # noqa: F821
    source=snakemake.wildcards.source, lang=snakemake.wildcards.lang, fields=snakemake.params.fields,  # noqa: F821
    filters=FilterSettings.from_config(snakemake.params.filters), on_bad_line=snakemake.params.on_bad_line,  # noqa: F821
)
