"""Task modifiers (Chirkova & Nikoulina, §3 "Control of task complexity", Table 1, App. B): a sentence
appended to suitable test instructions ("generate a short or detailed response, answer in a specified
language or style, format the answer in a specified way"), written per prompt language in the config
(``testsets.<t>.modifiers``).

Each item of ``modifiers.items`` gives its ``text`` per prompt language (for ``reply_languages`` items, per
prompt language and reply language), the ``tasks`` it suits (values of the prompts' ``task``, else
``category``; default all) and ``count``, how many instructions get it. The instructions are chosen by
a seeded order of their ids, so every language gets the same ones; ``{n}`` in a text is a number drawn
from ``n: [min, max]`` per instruction ("List N options (N random from 2 to 10)"), and a reply language
is drawn uniformly per instruction and prompt language from ``reply_languages[lang]`` ("we sample the
language uniformly from three languages"). A modified prompt has the id ``<id>~<item>`` and the fields
``modifier``, ``modifier_text`` and, for a reply language, ``reply_lang`` (the language the response must
be in: its language-ID check and the judge's wrong-language rule use it).
"""

from __future__ import annotations

from typing import Mapping

from ..errors import ConfigError, DataError
from .records import rank, seeded_order

SEPARATOR = "\n\n"  # between the instruction and the modifier sentence


def _label(record: dict) -> str | None:
    value = record.get("task", record.get("category"))
    return None if value is None else str(value)


def check_modifiers(name: str, block: Mapping, languages: tuple[str, ...]) -> None:
    """Every item has a text for every language of the test set (and every reply language it draws)."""
    where = f"testsets.{name}.modifiers"
    for item, spec in block["items"].items():
        for lang in languages:
            if lang not in spec["text"]:
                raise ConfigError(f"{where}.items.{item}.text: no text in {lang!r} (the test set's languages: "
                                  f"{', '.join(languages)})")
            if "reply_languages" in spec:
                replies = spec["reply_languages"].get(lang)
                if not replies:
                    raise ConfigError(f"{where}.items.{item}.reply_languages: none for prompts in {lang!r}")
                missing = [r for r in replies if not isinstance(spec["text"][lang], Mapping) or r not in spec["text"][lang]]
                if missing:
                    raise ConfigError(f"{where}.items.{item}.text.{lang}: no text asking for {', '.join(missing)}")
            elif not isinstance(spec["text"][lang], str):
                raise ConfigError(f"{where}.items.{item}.text.{lang}: a sentence (a mapping is for reply_languages)")


def modified_prompts(records: list[dict], block: Mapping, lang: str, where: str) -> list[dict]:
    """The modified copies of ``records`` (prompts of one language), item by item in config order."""
    seed = block["seed"]
    out = []
    for item, spec in block["items"].items():
        tasks = spec.get("tasks")
        suitable = [r for r in records if tasks is None or _label(r) in tasks]
        if len(suitable) < spec["count"]:
            raise DataError(f"{where}.modifiers.items.{item}.count: {spec['count']} but only {len(suitable)} "
                            f"prompts in {lang!r} suit it (tasks: {', '.join(tasks) if tasks else 'all'})")
        chosen = {r["id"] for r in seeded_order(suitable, seed, f"modifier:{item}", key=lambda r: r["id"])[:spec["count"]]}
        for record in (r for r in records if r["id"] in chosen):
            text = spec["text"][lang]
            extra = {}
            if "reply_languages" in spec:
                replies = spec["reply_languages"][lang]
                reply = replies[rank(seed, f"reply:{item}", record["id"], lang) % len(replies)]
                text, extra = text[reply], {"reply_lang": reply}
            if "{n}" in text:
                low, high = spec["n"]
                text = text.replace("{n}", str(low + rank(seed, f"n:{item}", record["id"]) % (high - low + 1)))
            out.append({**record, "id": f"{record['id']}~{item}", "prompt": record["prompt"].rstrip() + SEPARATOR + text,
                        "modifier": item, "modifier_text": text, **extra})
    return out
