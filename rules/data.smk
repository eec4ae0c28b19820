# Data stage: normalized sources and base models.
# Both rules download (hub, URLs): they run on the submit host, since compute nodes often have no internet.


localrules:
    fetch_source,
    fetch_model,
    fetch_adapter,
    fetch_tokenizer,
    fetch_openlid,


rule fetch_source:
    output:
        records="resources/sources/{source}.jsonl",
        report="resources/sources/{source}.report.json",
    log:
        "logs/data/fetch_source/{source}.log",
    wildcard_constraints:
        source=_alternatives(FETCHED_SOURCES),
    conda:
        "../envs/data.yaml"
    params:
        spec=get_source_spec,
        on_bad_line=config["on_bad_line"],
        code=code_of("fetch_source"),
    script:
        "../workflow/scripts/fetch_source.py"


rule fetch_model:
    input:
        texts=get_tiny_texts,
    output:
        directory("resources/models/{model}"),
    log:
        "logs/data/fetch_model/{model}.log",
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        spec=get_model_spec,
        code=code_of("fetch_model"),
    script:
        "../workflow/scripts/fetch_model.py"


# A baseline's published LoRA adapter (polyalpaca.data.adapters), checked against its base model.
rule fetch_adapter:
    input:
        base=get_adapter_base,
    output:
        directory("resources/adapters/{baseline}"),
    log:
        "logs/data/fetch_adapter/{baseline}.log",
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        spec=get_adapter_spec,
        code=code_of("fetch_adapter"),
    script:
        "../workflow/scripts/fetch_adapter.py"


# A tokenizer that is no base model (tokenizers:, e.g. mBART-50 for a token table): its files only.
rule fetch_tokenizer:
    input:
        texts=get_tiny_tokenizer_texts,
    output:
        directory("resources/tokenizers/{tokenizer}"),
    log:
        "logs/data/fetch_tokenizer/{tokenizer}.log",
    wildcard_constraints:
        tokenizer=_alternatives(config["tokenizers"]),
    conda:
        "../envs/data.yaml"
    params:
        spec=get_tokenizer_spec,
        code=code_of("fetch_tokenizer"),
    script:
        "../workflow/scripts/fetch_tokenizer.py"


# Only when a metric uses lid_model openlid (Chen et al.'s LID); a file already at the path is used as is.
rule fetch_openlid:
    output:
        config["evaluate"]["openlid_path"],
    log:
        "logs/data/fetch_openlid.log",
    conda:
        "../envs/data.yaml"
    params:
        code=code_of("fetch_openlid"),
    script:
        "../workflow/scripts/fetch_openlid.py"
