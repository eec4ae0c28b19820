"""Rule fetch_nllb: download a hub NLLB checkpoint, or build a tiny random one, into resources/nllb/{translator}."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.translate.models import build_tiny_snapshot, download_snapshot  # noqa: E402

setup_logging(snakemake)
spec = snakemake.params.spec
if "tiny" in spec:
    from polyalpaca.data.texts import source_texts

    build_tiny_snapshot(snakemake.output[0], source_texts(snakemake.input.texts), snakemake.params.nllb_codes,
                        spec["tiny"])
else:
    download_snapshot(spec["hf"], snakemake.output[0], name=snakemake.wildcards.translator)
