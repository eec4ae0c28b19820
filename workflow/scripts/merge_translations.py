"""Rule merge_translations: shards in source order through the quality filter; per-language report."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.translate import FilterSettings, merge_translations  # noqa: E402

setup_logging(snakemake)
merge_translations(
    snakemake.input.source, snakemake.input.shards, snakemake.output.records, snakemake.output.report,
    source=snakemake.wildcards.source, lang=snakemake.wildcards.lang, fields=snakemake.params.fields,
    filters=FilterSettings.from_config(snakemake.params.filters), on_bad_line=snakemake.params.on_bad_line,
)
