"""Recipes on small real-shaped inputs: sizes, language mix, equal budgets, splits, determinism, bad input."""

from collections import Counter

import pytest

from polyalpaca.errors import ConfigError, DataError
from polyalpaca.io import read_jsonl, write_jsonl
from polyalpaca.recipes import (
    TrainsetSpec,
    align_source,
    budget_from_size,
    budget_from_trainset,
    build_trainset,
    trainset_spec,
)

N = 300
LANGS = ("fr", "de", "es")
DROPPED = {"fr": {3, 40}, "de": {40, 77, 150}, "es": set()}  # the translation filter dropped these


def english(n=N):
    return [{"id": f"alpaca-{i:06d}", "instruction": f"Explain topic {i}.", "input": "" if i % 3 else f"context {i}",
             "output": f"Topic {i} is interesting.", "lang": "en", "source": "alpaca"} for i in range(n)]


def translation(records, lang, dropped=()):
    return [{"id": f"{r['id']}-{lang}", "instruction": f"[{lang}] {r['instruction']}", "input": r["input"] and f"[{lang}] {r['input']}",
             "output": f"[{lang}] {r['output']}", "lang": lang, "source": "alpaca", "source_id": r["id"],
             "translator": "nllb-600m"} for i, r in enumerate(records) if i not in dropped]


@pytest.fixture
def data(tmp_path):
    src = english()
    paths = {"en": tmp_path / "sources" / "alpaca.jsonl"}
    write_jsonl(paths["en"], src)
    for lang in LANGS:
        paths[lang] = tmp_path / "translate" / "alpaca" / f"{lang}.jsonl"
        write_jsonl(paths[lang], translation(src, lang, DROPPED[lang]))
    pool = tmp_path / "recipes" / "alpaca" / "aligned.json"
    align_source("alpaca", paths["en"], {lang: paths[lang] for lang in LANGS}, pool)
    return tmp_path, paths, pool


def spec(name, recipe, langs, **kw):
    return TrainsetSpec(name=name, recipe=recipe, source="alpaca", languages=tuple(langs), **kw)


def build(data, s, out="out", budget=None):
    tmp, paths, pool = data
    train, val = tmp / out / s.name / "train.jsonl", tmp / out / s.name / "val.jsonl"
    summary = build_trainset(s, paths["en"], {lang: paths[lang] for lang in LANGS}, pool, train, val, budget=budget)
    return read_jsonl(train), read_jsonl(val), summary, (train, val)


def no_straddling(train, val):
    assert not {r["source_id"] for r in train} & {r["source_id"] for r in val}


POOL = N - len(set().union(*DROPPED.values()))


def test_aligned_pool_is_the_ids_present_in_every_language(data):
    import json

    _, _, pool = data
    info = json.loads(pool.read_text())
    assert info["aligned"] == len(info["ids"]) == POOL
    assert info["per_language"]["de"]["missing"] == 3 and info["per_language"]["es"]["missing"] == 0
    assert "alpaca-000040" not in info["ids"] and "alpaca-000041" in info["ids"]


def test_mono_sets_have_equal_budget_and_same_split(data):
    en_train, en_val, summary, _ = build(data, spec("alpaca-en", "mono", ["en"]))
    fr_train, fr_val, _, _ = build(data, spec("alpaca-mono-fr", "mono", ["fr"]))
    assert len(en_train) == len(fr_train) and len(en_val) == len(fr_val)
    assert len(en_train) + len(en_val) == POOL
    assert len(en_val) == round(POOL * 0.02)
    assert summary["languages"]["en"] == {"train": len(en_train), "val": len(en_val)}
    # same held-out ids across trainsets of a source; never in both splits
    assert {r["source_id"] for r in en_val} == {r["source_id"] for r in fr_val}
    no_straddling(en_train, en_val)
    assert {r["lang"] for r in fr_train} == {"fr"} and fr_train[0]["translator"] == "nllb-600m"
    assert set(en_train[0]) == {"id", "instruction", "input", "output", "lang", "source", "source_id"}
    assert len({r["id"] for r in fr_train + fr_val}) == POOL


def test_multi_combines_and_shuffles_all_languages(data):
    langs = ["en", *LANGS]
    train, val, _, _ = build(data, spec("alpaca-multi", "multi", langs))
    assert len(train) + len(val) == POOL * len(langs)
    assert Counter(r["lang"] for r in train) == {lang: len(train) // 4 for lang in langs}
    no_straddling(train, val)
    # every held-out id is held out in every language
    val_ids = Counter(r["source_id"] for r in val)
    assert set(val_ids.values()) == {len(langs)}
    assert len({r["id"] for r in train + val}) == len(train) + len(val)
    # shuffled: the first 20 records are not one language block
    assert len({r["lang"] for r in train[:20]}) > 1


def test_downsampled_matches_the_budget_of_the_english_set(data):
    en_train, en_val, _, files = build(data, spec("alpaca-en", "mono", ["en"]))
    s = spec("alpaca-multi-ds", "multi_downsampled", ["en", *LANGS], budget_of="alpaca-en")
    budget = budget_from_trainset(s, *files)
    train, val, _, _ = build(data, s, budget=budget)
    assert (len(train), len(val)) == (len(en_train), len(en_val))
    no_straddling(train, val)
    counts = Counter(r["lang"] for r in train)
    assert set(counts) == {"en", *LANGS} and all(40 < c < 110 for c in counts.values())  # ~73 each


def test_downsampled_by_size_and_too_large_size(data):
    s = spec("alpaca-ds", "multi_downsampled", ["en", "fr"], size=100)
    train, val, _, _ = build(data, s, budget=budget_from_size(s))
    assert (len(train), len(val)) == (98, 2)
    big = spec("alpaca-ds", "multi_downsampled", ["en", "fr"], size=5000)
    with pytest.raises(DataError, match=r"trainsets\.alpaca-ds\.size.*multi_downsampled.*needs 4900 training"):
        build(data, big, budget=budget_from_size(big))


def test_uniform_pools_every_language_and_batches_draw_it_uniformly(data):
    """Zero-shot App. B: "The resulting four-language data is then sampled uniformly for mini-batch creation
    during training." The pool holds every language of every source id; the trainer's sampler shuffles it
    uniformly (per epoch, seeded) before cutting batches, so each language is drawn alike."""
    from polyalpaca.train.data import LengthGroupedBatchSampler

    langs = ["en", *LANGS]
    train, val, _, _ = build(data, spec("dolly-dt", "uniform", langs))
    assert len(train) + len(val) == POOL * len(langs)  # every language of every pooled id
    assert Counter(r["lang"] for r in train + val) == dict.fromkeys(langs, POOL)
    no_straddling(train, val)
    # the languages differ in length (as translations do); mini-batches of ~64 padded tokens
    lengths = [{"en": 5, "fr": 6, "de": 7, "es": 8}[r["lang"]] + (i % 3) for i, r in enumerate(train)]
    for group in (None, 64):  # train.group_by_length false / true (windows of length_group_size examples)
        sampler = LengthGroupedBatchSampler(lengths, batch_tokens=64, group_size=group, seed=3)
        batches = list(sampler)
        assert sorted(i for b in batches for i in b) == list(range(len(train)))  # an epoch draws the whole pool
        first = [i for b in batches[: len(batches) // 4] for i in b]  # the first quarter of the epoch's steps
        counts = Counter(train[i]["lang"] for i in first)
        expected = len(first) / len(langs)
        assert sum((c - expected) ** 2 / expected for c in counts.values()) < 16.3  # chi-square, 3 dof, p=0.001


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(data):
    s = spec("alpaca-multi", "multi", ["en", "fr", "de"])
    *_, (train_a, val_a) = build(data, s, out="a")
    *_, (train_b, val_b) = build(data, s, out="b")
    assert train_a.read_bytes() == train_b.read_bytes() and val_a.read_bytes() == val_b.read_bytes()
    other = spec("alpaca-multi", "multi", ["en", "fr", "de"], seed=7)
    *_, (train_c, _) = build(data, other, out="c")
    assert train_c.read_bytes() != train_a.read_bytes()


def test_short_translation_fails_under_policy_fail_naming_the_keys(data):
    tmp, paths, _ = data
    with pytest.raises(DataError, match=r"trainsets\.alpaca-mono-de\.lang.*lacks 3 of the 300"):
        align_source("alpaca", paths["en"], {"de": paths["de"], "es": paths["es"]}, tmp / "pool.json",
                     policy="fail", users={"de": ["trainsets.alpaca-mono-de.lang"]})
    align_source("alpaca", paths["en"], {"es": paths["es"]}, tmp / "pool.json", policy="fail")  # complete: fine
    write_jsonl(tmp / "none.jsonl", [])
    with pytest.raises(DataError, match=r"trainsets\.b\.lang: no record of source 'alpaca' is present .*fr 0/300"):
        align_source("alpaca", paths["en"], {"fr": tmp / "none.jsonl"}, tmp / "p.json", users={"fr": ["trainsets.b.lang"]})


def test_stale_pool_breaks_equal_budget_loudly(data):
    tmp, paths, _ = data
    pool = tmp / "es_only_pool.json"
    align_source("alpaca", paths["en"], {"es": paths["es"]}, pool)  # does not span fr
    with pytest.raises(DataError, match=r"trainsets\.alpaca-mono-fr\.languages\[0\]: the aligned pool .* \(recipe mono\) does not span .fr."):
        build_trainset(spec("alpaca-mono-fr", "mono", ["fr"]), paths["en"], {"fr": paths["fr"]}, pool,
                       tmp / "t.jsonl", tmp / "v.jsonl")
    # a pool claiming fr is complete while fr.jsonl lacks records
    write_jsonl(tmp / "fr_full.jsonl", translation(english(), "fr"))
    align_source("alpaca", paths["en"], {"fr": tmp / "fr_full.jsonl"}, pool)
    with pytest.raises(DataError, match=r"trainsets\.alpaca-mono-fr\.lang: equal budget broken.*lacks 2 of the 300"):
        build_trainset(spec("alpaca-mono-fr", "mono", ["fr"], uses_lang_key=True), paths["en"], {"fr": paths["fr"]},
                       pool, tmp / "t.jsonl", tmp / "v.jsonl")


def test_missing_translation_file_names_recipe_and_key(data):
    tmp, paths, pool = data
    s = spec("alpaca-multi", "multi", ["en", "fr", "bg"])
    with pytest.raises(DataError, match=r"trainsets\.alpaca-multi\.languages\[2\]: the translation into 'bg' is missing"):
        align_source("alpaca", paths["en"], {"bg": tmp / "translate" / "alpaca" / "bg.jsonl"}, tmp / "p.json",
                     users={"bg": [s.key("bg")]})
    with pytest.raises(DataError, match=r"trainsets\.alpaca-multi\.languages\[2\]: no translation .* 'bg'"):
        build_trainset(s, paths["en"], {"fr": paths["fr"]}, pool, tmp / "t.jsonl", tmp / "v.jsonl")


def test_translation_with_wrong_language_or_unknown_id_is_rejected(data):
    tmp, paths, _ = data
    bad = translation(english(5), "fr")
    bad[2]["lang"] = "de"
    write_jsonl(tmp / "bad.jsonl", bad)
    with pytest.raises(DataError, match=r"trainsets\.x\.lang: .*bad\.jsonl:3: .*lang 'de', expected 'fr'"):
        align_source("alpaca", paths["en"], {"fr": tmp / "bad.jsonl"}, tmp / "p.json", users={"fr": ["trainsets.x.lang"]})
    bad[2]["lang"], bad[4]["source_id"] = "fr", "nope"
    write_jsonl(tmp / "bad.jsonl", bad)
    with pytest.raises(DataError, match=r"bad\.jsonl:5: source_id 'nope' is not an id of the English source"):
        align_source("alpaca", paths["en"], {"fr": tmp / "bad.jsonl"}, tmp / "p.json")


def config_with(**trainsets):
    """A config as schema validation leaves it for these trainsets (val_fraction filled in as the schema would)."""
    return {"seed": 3, "languages": {"en": {}, "fr": {}}, "sources": {"alpaca": {}}, "translations": {"alpaca": {}},
            "trainsets": {name: {"val_fraction": 0.02, **block} for name, block in trainsets.items()}}


def test_spec_from_config_errors_name_recipe_and_key():
    cfg = config_with(a={"recipe": "multi", "source": "alpaca", "languages": ["en", "xx"]},
                      b={"recipe": "mono", "source": "alpaca", "lang": "fr"},
                      c={"recipe": "multi", "source": "alpaca", "languages": ["en", "fr", "en"]},
                      d={"recipe": "mono", "source": "alpaca", "lang": "fr", "size": 3})
    with pytest.raises(ConfigError, match=r"trainsets\.a\.languages\[1\]: unknown language 'xx' \(recipe multi"):
        trainset_spec(cfg, "a")
    assert trainset_spec(cfg, "b").key("fr") == "trainsets.b.lang" and trainset_spec(cfg, "b").seed == 3
    with pytest.raises(ConfigError, match=r"trainsets\.c\.languages\[2\]: 'en' is listed twice"):
        trainset_spec(cfg, "c")
    with pytest.raises(ConfigError, match=r"trainsets\.d\.size: only recipe 'multi_downsampled'"):
        trainset_spec(cfg, "d")
    del cfg["translations"]["alpaca"]
    with pytest.raises(ConfigError, match=r"trainsets\.b\.lang: 'fr' needs a translation of source 'alpaca'"):
        trainset_spec(cfg, "b")


def test_distilled_responses_replace_outputs_and_dropped_answers_leave_every_trainset(tmp_path):
    """A distilled file (results/distill/): the translated instruction with a chat model's answer, flagged answers
    removed. The pool then spans the distilled ids, so a translated trainset of the same source (here es) keeps
    the same budget, and English keeps its original responses (Bactrian-X §3.1)."""
    src = english(40)
    paths = {"en": tmp_path / "alpaca.jsonl", "fr": tmp_path / "distill-fr.jsonl", "es": tmp_path / "es.jsonl"}
    write_jsonl(paths["en"], src)
    distilled = [dict(r, output=f"Réponse du modèle {i}", distiller="gpt35-turbo")
                 for i, r in enumerate(translation(src, "fr")) if i not in {5, 6}]  # two answers were flagged
    write_jsonl(paths["fr"], distilled)
    write_jsonl(paths["es"], translation(src, "es"))
    pool = tmp_path / "aligned.json"
    align_source("alpaca", paths["en"], {"fr": paths["fr"], "es": paths["es"]}, pool)
    multi = spec("multi", "multi", ("en", "fr"), val_fraction=0.1)
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    build_trainset(multi, paths["en"], {"fr": paths["fr"]}, pool, train, val)
    records = read_jsonl(train) + read_jsonl(val)
    fr = [r for r in records if r["lang"] == "fr"]
    assert len(fr) == 38 and all(r["output"].startswith("Réponse du modèle") and r["distiller"] == "gpt35-turbo"
                                 for r in fr)
    assert all(r["output"].startswith("Topic") and "distiller" not in r for r in records if r["lang"] == "en")
    mono_es = spec("mono-es", "mono", ("es",), val_fraction=0.1)
    build_trainset(mono_es, paths["en"], {"es": paths["es"]}, pool, tmp_path / "es-train.jsonl", tmp_path / "es-val.jsonl")
    es_ids = {r["source_id"] for p in ("es-train.jsonl", "es-val.jsonl") for r in read_jsonl(tmp_path / p)}
    assert es_ids == {r["source_id"] for r in fr}  # the same 38 ids: equal budgets across response kinds
