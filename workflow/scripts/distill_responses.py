"""Rule distill_responses: a chat model answers each translated instruction of one language (polyalpaca.distill).

The endpoint's limits, prices and budget and max_dropped_fraction are operational (read at run time, not
params): tuning them does not mark finished answers stale.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.distill import DistillSpec, distill_responses  # noqa: E402
from polyalpaca.evaluate.judge import JudgeConfig, JudgeSettings  # noqa: E402

setup_logging(snakemake)
answers = snakemake.params.answers
source, lang = snakemake.wildcards.source, snakemake.wildcards.lang
spec = DistillSpec.from_config(source, {**answers["spec"], **operational(snakemake, "distillations", source)})
inputs, output = snakemake.input, snakemake.output
distill_responses(
    spec,
    JudgeConfig.from_config(spec.judge, {**answers["endpoint"], **operational(snakemake, "judges", spec.judge)}),
    JudgeSettings.from_config({**answers["settings"], **operational(snakemake, "evaluate", "judge")}),
    translation=inputs.translation,
    lang=lang,
    languages={lang: answers["language"]},
    output=output.records,
    flagged=output.flagged,
    report=output.report,
    template=inputs.template,
    model_dir=inputs.get("model_dir"),
    openlid_path=inputs.get("openlid"),
    threads=snakemake.threads,
    on_bad_line=snakemake.params.on_bad_line,
)
