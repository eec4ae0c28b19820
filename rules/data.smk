# Data stage: normalized sources and base models.
# Both rules download (hub, URLs): they run on the submit host, since compute nodes often have no internet.


localrules:
    fetch_source,
    fetch_model,


rule fetch_source:
    output:
        records="resources/sources/{source}.jsonl",
        report="resources/sources/{source}.report.json",
    wildcard_constraints:
        source=_alternatives(FETCHED_SOURCES),
    params:
        spec=lambda wc: result_view(config, "sources", wc.source),
        on_bad_line=config["on_bad_line"],
        code=code_of("fetch_source"),
    log:
        "logs/data/fetch_source/{source}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/fetch_source.py"


rule fetch_model:
    input:
        texts=get_tiny_texts,
    output:
        directory("resources/models/{model}"),
    params:
        spec=lambda wc: result_view(config, "models", wc.model),
        code=code_of("fetch_model"),
    log:
        "logs/data/fetch_model/{model}.log",
    threads: 1
    resources:
        mem_mb=4000,
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/fetch_model.py"
