# polyalpaca — multilingual instruction tuning studies, end to end.
# Targets: `all` (every study's tables and figures); any file under results/ on its own.
from snakemake.utils import min_version

min_version("9.0")


# The paper grid by default; `--configfile` (or a profile's configfile) replaces it instead of being
# merged into it, so a smaller grid never inherits the paper's runs.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/translate.smk"
include: "rules/distill.smk"
include: "rules/recipes.smk"
include: "rules/train.smk"
include: "rules/generate.smk"
include: "rules/metrics.smk"
include: "rules/judge.smk"
include: "rules/roundtrip.smk"
include: "rules/benchmark.smk"
include: "rules/figures.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
