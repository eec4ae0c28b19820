"""Typed, validated parameters of the recipes stage, built from config blocks.

Every check names the config key to fix (``trainsets.alpaca-mono-fr.lang``). The rules pass the
config block of one trainset / test set / derived source as a param; scripts build these
dataclasses with ``from_block``; :func:`trainset_spec` & co. build them from a whole config and also
check the cross references (known languages, translations defined), for library users and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..effects import schema_defaults
from ..errors import ConfigError

RECIPES = ("mono", "multi", "multi_downsampled", "uniform")
SHORT_TRANSLATION_POLICIES = ("intersect", "fail")
KEYWORD_FIELDS = ("instruction", "input", "output")
ENGLISH = "en"


@dataclass(frozen=True)
@schema_defaults("recipes")
class RecipeSettings:
    """The ``recipes:`` block of the config (schemas/settings/recipes.schema.yaml)."""

    short_translations: str
    keyword_fields: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.short_translations not in SHORT_TRANSLATION_POLICIES:
            raise ConfigError(f"recipes.short_translations: {self.short_translations!r} is not one of "
                              f"{', '.join(SHORT_TRANSLATION_POLICIES)}")
        bad = [f for f in self.keyword_fields if f not in KEYWORD_FIELDS]
        if bad or not self.keyword_fields:
            raise ConfigError(f"recipes.keyword_fields: {bad or '[]'} — expected a non-empty list of "
                              f"{', '.join(KEYWORD_FIELDS)}")

    @classmethod
    def from_block(cls, block: Mapping | None) -> "RecipeSettings":
        block = dict(block or {})
        if "keyword_fields" in block:
            block["keyword_fields"] = tuple(block["keyword_fields"])
        unknown = set(block) - {"short_translations", "keyword_fields"}
        if unknown:
            raise ConfigError(f"recipes: unknown keys {', '.join(sorted(unknown))}")
        return cls(**block)


@dataclass(frozen=True)
class TrainsetSpec:
    """One trainset: which recipe combines which languages of which source."""

    name: str
    recipe: str
    source: str
    languages: tuple[str, ...]
    seed: int = 42
    val_fraction: float = 0.02
    budget_of: str | None = None
    size: int | None = None
    label: str = ""
    uses_lang_key: bool = field(default=False, compare=False)  # config wrote `lang:` (mono) not `languages:`

    def __post_init__(self) -> None:
        where = f"trainsets.{self.name}"
        if self.recipe not in RECIPES:
            raise ConfigError(f"{where}.recipe: {self.recipe!r} is not one of {', '.join(RECIPES)}")
        if not self.languages:
            raise ConfigError(f"{where}: recipe {self.recipe!r} needs 'languages'")
        if self.recipe == "mono" and len(self.languages) != 1:
            raise ConfigError(f"{where}: recipe 'mono' takes exactly one language ('lang'), got {list(self.languages)}")
        if self.recipe == "uniform" and len(self.languages) < 2:
            raise ConfigError(f"{where}.languages: recipe 'uniform' draws among at least two languages")
        seen: set[str] = set()
        for i, lang in enumerate(self.languages):
            if lang in seen:
                raise ConfigError(f"{where}.languages[{i}]: {lang!r} is listed twice")
            seen.add(lang)
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"{where}.val_fraction: {self.val_fraction} is not between 0 and 1 (exclusive)")
        if self.recipe == "multi_downsampled":
            if (self.budget_of is None) == (self.size is None):
                raise ConfigError(f"{where}: recipe 'multi_downsampled' needs exactly one of 'budget_of' or 'size'")
            if self.size is not None and self.size < 2:
                raise ConfigError(f"{where}.size: {self.size} — need at least 2 (one training, one validation example)")
        elif self.budget_of is not None or self.size is not None:
            key = "budget_of" if self.budget_of is not None else "size"
            raise ConfigError(f"{where}.{key}: only recipe 'multi_downsampled' is downsampled "
                              f"(this trainset's recipe is {self.recipe!r})")

    def key(self, lang: str) -> str:
        """The config key naming ``lang`` in this trainset (``trainsets.x.lang`` or ``trainsets.x.languages[i]``)."""
        if self.uses_lang_key:
            return f"trainsets.{self.name}.lang"
        return f"trainsets.{self.name}.languages[{self.languages.index(lang)}]"

    @property
    def where(self) -> str:
        return f"trainsets.{self.name} (recipe {self.recipe})"

    @property
    def translated_languages(self) -> tuple[str, ...]:
        return tuple(lang for lang in self.languages if lang != ENGLISH)

    @classmethod
    def from_block(cls, name: str, block: Mapping, seed: int) -> "TrainsetSpec":
        """From ``config["trainsets"][name]`` (after schema validation) and the config's ``seed``."""
        if "lang" in block and "languages" in block:
            raise ConfigError(f"trainsets.{name}: give either 'lang' or 'languages', not both")
        langs = (block["lang"],) if "lang" in block else tuple(block.get("languages", ()))
        return cls(name=name, recipe=block.get("recipe", ""), source=block.get("source", ""), languages=langs,
                   seed=int(seed), val_fraction=float(block["val_fraction"]),
                   budget_of=block.get("budget_of"), size=block.get("size"), label=block.get("label", ""),
                   uses_lang_key="lang" in block)


@dataclass(frozen=True)
class TestsetSpec:
    """One test prompt set: native prompts per language, or prompts translated from one language."""

    __test__ = False  # not a pytest class

    name: str
    source: str
    languages: tuple[str, ...]
    translate_from: str | None = None
    limit: int | None = None
    modifiers: Mapping | None = None  # task modifiers appended to the prompts (recipes.modifiers)

    def __post_init__(self) -> None:
        if not self.languages:
            raise ConfigError(f"testsets.{self.name}.languages: empty")
        if self.modifiers:
            from .modifiers import check_modifiers

            check_modifiers(self.name, self.modifiers, self.languages)
        if self.translate_from is not None and self.translate_from not in self.languages:
            raise ConfigError(f"testsets.{self.name}.translate_from: {self.translate_from!r} is not one of its "
                              f"languages ({', '.join(self.languages)})")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"testsets.{self.name}.limit: {self.limit} — must be at least 1")

    def key(self, lang: str) -> str:
        if lang not in self.languages:
            raise ConfigError(f"testsets.{self.name}.languages: {lang!r} is not a language of this test set "
                              f"({', '.join(self.languages)})")
        return f"testsets.{self.name}.languages[{self.languages.index(lang)}]"

    def is_translated(self, lang: str) -> bool:
        return self.translate_from is not None and lang != self.translate_from

    @classmethod
    def from_block(cls, name: str, block: Mapping) -> "TestsetSpec":
        return cls(name=name, source=block["source"], languages=tuple(block["languages"]),
                   translate_from=block.get("translate_from"), limit=block.get("limit"),
                   modifiers=block.get("modifiers"))


@dataclass(frozen=True)
class DeriveSpec:
    """A source built from other sources, minus the records that match a keyword list."""

    name: str
    parents: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    keyword_list: str | None = None
    fields: tuple[str, ...] = ("instruction", "input")
    limit: int | None = None

    def __post_init__(self) -> None:
        if not self.parents:
            raise ConfigError(f"sources.{self.name}.derive.from: empty")
        if self.name in self.parents:
            raise ConfigError(f"sources.{self.name}.derive.from: a source cannot derive from itself")
        if self.keyword_list is not None and not self.keywords:
            raise ConfigError(f"keyword_lists.{self.keyword_list}: empty list (used by sources.{self.name}.derive)")
        for i, kw in enumerate(self.keywords):
            if not kw.strip("*").strip():
                raise ConfigError(f"keyword_lists.{self.keyword_list}[{i}]: {kw!r} is not a keyword")

    @classmethod
    def from_block(cls, name: str, source_block: Mapping, keyword_lists: Mapping,
                   settings: RecipeSettings | None = None) -> "DeriveSpec":
        derive = source_block.get("derive")
        if not derive:
            raise ConfigError(f"sources.{name}: not a derived source (no 'derive' key)")
        list_name = derive.get("exclude_keywords")
        if list_name is not None and list_name not in keyword_lists:
            raise ConfigError(f"sources.{name}.derive.exclude_keywords: {list_name!r} is not defined in "
                              f"keyword_lists (defined: {', '.join(sorted(keyword_lists)) or 'none'})")
        settings = settings or RecipeSettings()
        return cls(name=name, parents=tuple(derive["from"]),
                   keywords=tuple(keyword_lists[list_name]) if list_name else (), keyword_list=list_name,
                   fields=settings.keyword_fields, limit=source_block.get("limit"))


# ---------------------------------------------------------------- from a whole config (cross references)
def trainset_spec(config: Mapping, name: str) -> TrainsetSpec:
    """The spec of trainset ``name``, checking its source, languages and translations against ``config``."""
    if name not in config["trainsets"]:
        raise ConfigError(f"trainsets: {name!r} is not defined (defined: {', '.join(sorted(config['trainsets']))})")
    spec = TrainsetSpec.from_block(name, config["trainsets"][name], config["seed"])
    if spec.source not in config["sources"]:
        raise ConfigError(f"trainsets.{name}.source: {spec.source!r} is not defined in sources")
    for lang in spec.languages:
        if lang not in config["languages"]:
            raise ConfigError(f"{spec.key(lang)}: unknown language {lang!r} (recipe {spec.recipe}; "
                              f"defined languages: {', '.join(config['languages'])})")
        if lang != ENGLISH and spec.source not in config["translations"]:
            raise ConfigError(f"{spec.key(lang)}: {lang!r} needs a translation of source {spec.source!r} "
                              f"(recipe {spec.recipe}), but translations.{spec.source} is not defined")
    if spec.budget_of is not None and spec.budget_of not in config["trainsets"]:
        raise ConfigError(f"trainsets.{name}.budget_of: {spec.budget_of!r} is not defined in trainsets")
    return spec


def testset_spec(config: Mapping, name: str) -> TestsetSpec:
    if name not in config["testsets"]:
        raise ConfigError(f"testsets: {name!r} is not defined (defined: {', '.join(sorted(config['testsets']))})")
    spec = TestsetSpec.from_block(name, config["testsets"][name])
    for lang in spec.languages:
        if lang not in config["languages"]:
            raise ConfigError(f"{spec.key(lang)}: unknown language {lang!r}")
    return spec


def derive_spec(config: Mapping, name: str) -> DeriveSpec:
    if name not in config["sources"]:
        raise ConfigError(f"sources: {name!r} is not defined")
    return DeriveSpec.from_block(name, config["sources"][name], config["keyword_lists"],
                                 RecipeSettings.from_block(config.get("recipes")))


def aligned_languages(config: Mapping, source: str) -> dict[str, list[str]]:
    """Translated languages of ``source`` that its aligned pool spans -> the config keys that use them.

    The pool of a source spans every language that any configured trainset of that source uses, so
    all of them (mono, English-only, multilingual, downsampled) draw from the same source ids.
    """
    users: dict[str, list[str]] = {}
    for name in sorted(config["trainsets"]):
        block = config["trainsets"][name]
        if block.get("source") != source:
            continue
        spec = TrainsetSpec.from_block(name, block, config["seed"])
        for lang in spec.translated_languages:
            users.setdefault(lang, []).append(spec.key(lang))
    return dict(sorted(users.items()))


def trainset_models(config: Mapping, trainset: str) -> list[str]:
    """Base models that train on ``trainset`` in the studies (whose tokenizers the statistics use)."""
    from ..config import all_runs

    return sorted({run.model for run in all_runs(config) if run.trainset == trainset})
