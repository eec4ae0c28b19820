"""Pure parts of the translate stage: segmentation and protection, the quality filter, settings."""

import random

import pytest

from polyalpaca.errors import ConfigError
from polyalpaca.translate import FilterSettings, TranslateSettings, reassemble, segment
from polyalpaca.translate.filters import language_bad, length_ratio_bad, max_repeats, record_reasons
from polyalpaca.translate.plan import filter_settings, translate_settings

CODE_BLOCK = "```python\ndef add(a, b):\n    # add. Two numbers.\n    return a + b\n```\n"
PROTECTED = [
    CODE_BLOCK,
    "    for i in range(3): print(i)  # indented code. Kept.\n",
    "`len(x)`", "https://example.com/a_b?q=1&r=two", "www.python.org/doc", "jane.doe+tag@example.co.uk",
    "{name}", "{{ count }}", "{0}", "%s", "%(user)s", "<noinput>", "</b>", "${HOME}", "$PATH_VAR",
]
PROSE = ["Give three tips for staying healthy.", "Eat a balanced diet. Drink water!", "Is it e.g. red?",
         "Mr. Smith paid 3.5 dollars.", "Ok", "Wait... what?", "Le café coûte 2 €.", "¿Qué hora es?"]
PREFIXES = ["", "1. ", "- ", "* ", "## ", "> ", "  2) ", "A. "]


def random_field(rng: random.Random) -> str:
    """A field of prose lines, list items, protected spans and blank lines, in random order."""
    lines = []
    for _ in range(rng.randint(1, 8)):
        kind = rng.random()
        if kind < 0.15:
            lines.append(rng.choice([CODE_BLOCK, PROTECTED[1]]).rstrip("\n"))
        elif kind < 0.25:
            lines.append("")
        else:
            parts = [rng.choice(PROSE)]
            for _ in range(rng.randint(0, 3)):
                parts.append(rng.choice(PROTECTED[2:]) if rng.random() < 0.5 else rng.choice(PROSE))
            lines.append(rng.choice(PREFIXES) + " ".join(parts) + rng.choice(["", " ", "\t"]))
    return rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["", "\n"])


def fake_translate(text: str) -> str:
    """A deterministic stand-in for a model: changes every character, keeps nothing."""
    return "«" + text.upper()[::-1].replace(".", "·") + "»"


def test_pieces_join_back_exactly_and_protected_spans_are_never_translated():
    rng = random.Random(0)
    for _ in range(300):
        text = random_field(rng)
        pieces = segment(text)
        assert "".join(p.text for p in pieces) == text
        for p in pieces:
            if p.translate:
                assert p.text == p.text.strip() and p.text
                for span in PROTECTED:
                    assert span.strip() not in p.text, (span, p.text)
        out = reassemble(pieces, {p.text: fake_translate(p.text) for p in pieces if p.translate})
        # line structure and every protected span survive the translation byte for byte
        assert out.count("\n") == text.count("\n") and out.count("\r\n") == text.count("\r\n")
        for span in PROTECTED:
            assert out.count(span.strip()) >= text.count(span.strip()), span
        if CODE_BLOCK.rstrip("\n") in text:
            assert CODE_BLOCK.rstrip("\n") in out


def test_lines_prefixes_and_sentences():
    text = "Tips:\n\n1. Eat well. Sleep a lot.\n   - Walk daily\n## Summary\n| Name | Age |\n|---|---|"
    pieces = segment(text)
    assert [p.text for p in pieces if p.translate] == ["Tips:", "Eat well.", "Sleep a lot.", "Walk daily", "Summary",
                                                       "Name", "Age"]
    kept = "".join(p.text if not p.translate else "_" for p in pieces)
    assert kept == "_\n\n1. _ _\n   - _\n## _\n| _ | _ |\n|---|---|"


def test_inline_spans_split_the_sentence_around_them():
    pieces = segment("Use `len()` to count, see https://docs.python.org. Or ask me@x.org, {name}!")
    assert [p.text for p in pieces if p.translate] == ["Use", "to count, see", "Or ask"]


def test_fences_open_and_close():
    unclosed = "Intro.\n```\ncode line. Still code\nmore code"
    assert [p.text for p in segment(unclosed) if p.translate] == ["Intro."]
    inline_fence = "Run ```ls -la``` first.\nThen rest."
    assert [p.text for p in segment(inline_fence) if p.translate] == ["Run", "first.", "Then rest."]
    tilde = "~~~\nx = 1. y\n~~~\nAfter."
    assert [p.text for p in segment(tilde) if p.translate] == ["After."]


def test_empty_numbers_and_punctuation_are_not_translated():
    for text in ["", " ", "\n\n", "42", "3.14 + 2 = 5.14", "---", "...", "(1) [2]"]:
        assert not [p for p in segment(text) if p.translate]


def test_protections_can_be_switched_off():
    text = "See https://x.org now."
    assert [p.text for p in segment(text, protect=[]) if p.translate] == [text]
    with pytest.raises(ValueError, match="unknown protection"):
        segment(text, protect=["urls"])


def test_long_sentences_are_cut_at_clauses_then_spaces():
    sentence = ", ".join(["word " * 30] * 6).strip() + "."
    pieces = segment(sentence, max_chars=200)
    parts = [p.text for p in pieces if p.translate]
    assert len(parts) > 1 and all(len(p) <= 200 for p in parts)
    assert "".join(p.text for p in pieces) == sentence
    nospace = "x" * 450
    assert [len(p.text) for p in segment(nospace, max_chars=200)] == [200, 200, 50]


def test_max_repeats():
    assert max_repeats("", 4) == 0
    assert max_repeats("the cat sat", 4) == 1
    assert max_repeats("la la la la la", 4) == 5
    assert max_repeats("I like it. I like it. I like it.", 4) == 3
    assert max_repeats("猫猫猫猫", 2) == 4  # characters for scripts written without spaces


def test_filter_reasons_and_actions():
    f = FilterSettings.from_config({"length_ratio": {"min": 0.5, "max": 2.0, "min_tokens": 4},
                                    "repetition": {"max_repeats": 3}, "wrong_language": {"min_prob": 0.6}})
    assert not length_ratio_bad([[3, 20, False]], f)  # too short to judge
    assert length_ratio_bad([[3, 5, True]], f)  # stopped by the length bound
    assert length_ratio_bad([[10, 25, False]], f) and length_ratio_bad([[10, 4, False]], f)
    assert not length_ratio_bad([[10, 12, False]], f)
    assert language_bad(["en", 0.9, 40], "fr", f)
    assert not language_bad(["en", 0.5, 40], "fr", f)  # not sure enough
    assert not language_bad(["en", 0.9, 10], "fr", f)  # too short
    assert not language_bad(None, "fr", f)
    src = {"instruction": "Say hi hi hi.", "output": "Hello."}
    out = {"instruction": "Dis salut salut salut.", "output": "Bonjour bonjour bonjour bonjour."}
    qc = {"segments": [[10, 30, False]], "lid": ["en", 0.99, 50]}
    assert record_reasons(src, out, qc, ["instruction", "output"], "fr", f) == [
        "length_ratio", "repetition", "wrong_language"]
    out_ok = {"instruction": "Dis salut salut salut.", "output": "Bonjour."}  # repeats as often as the source
    assert record_reasons(src, out_ok, {"segments": [], "lid": None}, ["instruction", "output"], "fr", f) == []
    off = FilterSettings.from_config({"length_ratio": {"action": "off"}, "repetition": {"action": "flag"}})
    assert record_reasons(src, out, qc, ["instruction", "output"], "fr", off) == ["repetition", "wrong_language"]


def test_settings_errors_name_the_key():
    with pytest.raises(ConfigError, match="translate.beam_size"):
        TranslateSettings(beam_size=0)
    with pytest.raises(ConfigError, match="translate: unknown key.*beam"):
        TranslateSettings.from_config({"beam": 2})
    with pytest.raises(ConfigError, match="translate.filters.length_ratio: needs 0 <= min < max"):
        FilterSettings.from_config({"length_ratio": {"min": 3, "max": 2}})
    with pytest.raises(ConfigError, match="translate.filters: unknown reason.*lid"):
        FilterSettings.from_config({"lid": {}})
    with pytest.raises(ConfigError, match="translate.protect"):
        TranslateSettings(protect=("code",))


def test_config_defaults_round_trip_through_the_rules_params():
    from polyalpaca.config import load_config
    from tests.conftest import REPO

    config = load_config(REPO / "config.yaml")
    settings = TranslateSettings.from_config(translate_settings(config))
    assert settings.device in ("cpu", "cuda") and settings.beam_size >= 1
    assert FilterSettings.from_config(filter_settings(config)) == FilterSettings.from_config(config["translate"])
