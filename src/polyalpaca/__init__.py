"""polyalpaca: multilingual instruction tuning studies as a Snakemake pipeline (library part)."""

__version__ = "0.1.0"
