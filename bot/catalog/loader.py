"""Load every YAML file of intents/ and content/ into one frozen `Catalog`.

All problems are collected before raising, so a content editor sees every mistake
in one run of `python -m bot check`, each with its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from pydantic import ValidationError

from bot.catalog.form_model import FORMS_FOLDER, LoadedForm, load_forms
from bot.catalog.models import Answer, ButtonSpec, Centre, ContentFile, CrisisLines, TranslationFile
from bot.catalog.safety_model import SafetyLexicon
from bot.catalog.vocabulary_model import Vocabulary
from bot.catalog.yaml_lines import LocatedYaml, load_located_yaml
from bot.errors import ContentError

SINGLE_SECTIONS = ("vocabulary", "safety", "centre", "crisis_lines", "availability")
KEYED_SECTIONS = ("answers", "texts", "menus")
# Translations live apart from the English content, one folder per language the bot speaks.
I18N_FOLDER = "i18n"
TRANSLATED_LANGUAGES = ("hinglish", "hi")
TRANSLATED_SECTIONS = ("texts", "answers", "menus")


@dataclass(frozen=True)
class Translation:
    """One language's content: the same keys as the English content, each optional.

    A key missing here falls back to English at run time; `check` lists every one.
    unreviewed: the files the centre has not yet marked `reviewed: true`.
    """

    texts: Mapping[str, str] = field(default_factory=dict)
    answers: Mapping[str, Answer] = field(default_factory=dict)
    menus: Mapping[str, tuple[tuple[ButtonSpec, ...], ...]] = field(default_factory=dict)
    flows: Mapping[str, tuple[LocatedYaml, Any]] = field(default_factory=dict)
    unreviewed: tuple[str, ...] = ()
    where: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """Everything the bot knows and says, validated; `where` maps "section/key" to "file:line"."""

    examples: Mapping[str, tuple[str, ...]]
    vocabulary: Vocabulary
    safety: SafetyLexicon
    answers: Mapping[str, Answer]
    texts: Mapping[str, str]
    menus: Mapping[str, tuple[tuple[ButtonSpec, ...], ...]]
    centre: Centre
    crisis_lines: CrisisLines
    flows: Mapping[str, Any]
    availability: Mapping[str, Any]
    where: Mapping[str, str] = field(default_factory=dict)
    docs: Mapping[str, LocatedYaml] = field(default_factory=dict)
    translations: Mapping[str, Translation] = field(default_factory=dict)
    # content/forms/: forms run by `bot.engine.forms` (the booking), validated here with the texts they name.
    forms: Mapping[str, LoadedForm] = field(default_factory=dict)

    def locate(self, ref: str, *subpath: str | int) -> str:
        """"file:line" of `ref` ("answers/rebuild_trust") or of a place inside it (..., "buttons", 2)."""
        doc = self.docs.get(ref)
        if doc is None:
            return self.where.get(ref, ref)
        section, _, key = ref.partition("/")
        return doc.where((section, key, *subpath))

    def text(self, key: str, language: str = "en") -> str:
        """A UI text by key in `language`, else in English; a key missing in English too is a
        content bug caught by `check`, shown as the key."""
        translation = self.translations.get(language)
        if translation is not None and key in translation.texts:
            return translation.texts[key]
        return self.texts.get(key, key)

    def answer(self, intent: str, language: str = "en") -> Answer | None:
        """An intent's answer in `language`, else in English."""
        translation = self.translations.get(language)
        if translation is not None and intent in translation.answers:
            return translation.answers[intent]
        return self.answers.get(intent)

    def menu(self, name: str, language: str = "en") -> tuple[tuple[ButtonSpec, ...], ...]:
        """A menu in `language`, else in English."""
        translation = self.translations.get(language)
        if translation is not None and name in translation.menus:
            return translation.menus[name]
        return self.menus.get(name, ())


def yaml_files(content_dir: Path) -> list[Path]:
    """The YAML files the bot reads, in a stable order."""
    files: list[Path] = []
    for folder in ("intents", "content"):
        root = content_dir / folder
        if root.is_dir():
            files.extend(sorted(p for p in root.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file()))
    apart = (content_dir / "content" / I18N_FOLDER, content_dir / "content" / FORMS_FOLDER)
    return [path for path in files if not any(folder in path.parents for folder in apart)]


def translation_files(content_dir: Path) -> list[Path]:
    """The YAML files under content/i18n/, in a stable order."""
    root = content_dir / "content" / I18N_FOLDER
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def load_translations(content_dir: Path, problems: list[str]) -> dict[str, Translation]:
    """Read content/i18n/<language>/*.yaml; problems (with file and line) are added to `problems`."""
    root = content_dir / "content" / I18N_FOLDER
    merged: dict[str, dict[str, dict[str, Any]]] = {}
    flows: dict[str, dict[str, tuple[LocatedYaml, Any]]] = {}
    seen: dict[tuple[str, str, str], str] = {}
    unreviewed: dict[str, list[str]] = {}
    for path in translation_files(content_dir):
        language = path.relative_to(root).parts[0]
        if language not in TRANSLATED_LANGUAGES:
            problems.append(f"{path}:1: unknown language folder '{language}' (expected one of {', '.join(TRANSLATED_LANGUAGES)})")
            continue
        try:
            doc = load_located_yaml(path)
        except ContentError as error:
            problems.extend(error.problems)
            continue
        if doc.data is None:
            continue
        if not isinstance(doc.data, dict):
            problems.append(f"{path}:1: the file must be a mapping of sections (reviewed:, texts:, answers:, ...)")
            continue
        try:
            content = TranslationFile.model_validate(doc.data)
        except ValidationError as error:
            problems.extend(_validation_problems(doc, error))
            continue
        sections = merged.setdefault(language, {name: {} for name in TRANSLATED_SECTIONS})
        if not content.reviewed:
            unreviewed.setdefault(language, []).append(str(path.relative_to(content_dir)))
        for section in TRANSLATED_SECTIONS:
            for key, value in (getattr(content, section) or {}).items():
                place = doc.where((section, key))
                if (language, section, key) in seen:
                    problems.append(f"{place}: {section} '{key}' is also translated at {seen[(language, section, key)]}")
                    continue
                seen[(language, section, key)] = place
                sections[section][key] = value
        if content.flow is not None:
            flow_id = str(content.flow.get("id", path.stem))
            place = doc.where(("flow",))
            if (language, "flow", flow_id) in seen:
                problems.append(f"{place}: flow '{flow_id}' is also translated at {seen[(language, 'flow', flow_id)]}")
            else:
                seen[(language, "flow", flow_id)] = place
                flows.setdefault(language, {})[flow_id] = (doc, content.flow)
    return {
        language: Translation(
            texts=MappingProxyType(sections["texts"]),
            answers=MappingProxyType(sections["answers"]),
            menus=MappingProxyType({name: tuple(tuple(row) for row in rows) for name, rows in sections["menus"].items()}),
            flows=MappingProxyType(flows.get(language, {})),
            where=MappingProxyType(
                {f"{section}/{key}": place for (lang, section, key), place in seen.items() if lang == language}
            ),
            unreviewed=tuple(unreviewed.get(language, ())),
        )
        for language, sections in merged.items()
    }


def _validation_problems(doc: LocatedYaml, error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        location = tuple(item["loc"])
        dotted = ".".join(str(part) for part in location) or "(top)"
        problems.append(f"{doc.where(location)}: {dotted}: {item['msg']}")
    return problems


def _parse(path: Path, problems: list[str]) -> tuple[LocatedYaml, ContentFile] | None:
    try:
        doc = load_located_yaml(path)
    except ContentError as error:
        problems.extend(error.problems)
        return None
    if doc.data is None:
        return None
    if not isinstance(doc.data, dict):
        problems.append(f"{path}:1: the file must be a mapping of sections (intents:, answers:, texts:, ...)")
        return None
    try:
        return doc, ContentFile.model_validate(doc.data)
    except ValidationError as error:
        problems.extend(_validation_problems(doc, error))
        return None


def _centre_topic_problems(centre: Centre, texts: Mapping[str, Any], doc: LocatedYaml) -> list[str]:
    """Every centre topic needs its sentence and its button label in English (`centre_<id>`, `centre_<id>_label`)."""
    problems = []
    for topic_id in centre.topics:
        for key in (f"centre_{topic_id}", f"centre_{topic_id}_label"):
            if key not in texts:
                place = doc.where(("centre", "topics", topic_id))
                problems.append(f"{place}: centre topic '{topic_id}' needs the text '{key}' (in content/texts_centre.yaml)")
    return problems


def load_catalog(content_dir: Path) -> Catalog:
    """Read and validate intents/ and content/ under `content_dir`; raise ContentError listing every problem."""
    problems: list[str] = []
    files = yaml_files(content_dir)
    if not files:
        raise ContentError([f"{content_dir}: no YAML files under intents/ or content/ (is CONTENT_DIR right?)"])
    examples: dict[str, tuple[str, ...]] = {}
    keyed: dict[str, dict[str, Any]] = {name: {} for name in KEYED_SECTIONS}
    single: dict[str, Any] = {}
    flows: dict[str, Any] = {}
    where: dict[str, str] = {}
    docs: dict[str, LocatedYaml] = {}
    centre_doc: LocatedYaml | None = None
    for path in files:
        parsed = _parse(path, problems)
        if parsed is None:
            continue
        doc, content = parsed
        for index, spec in enumerate(content.intents or []):
            key = f"intents/{spec.id}"
            if spec.id in examples:
                problems.append(f"{doc.where(('intents', index, 'id'))}: intent '{spec.id}' is also defined at {where[key]}")
                continue
            examples[spec.id] = tuple(spec.examples)
            where[key] = doc.where(("intents", index, "id"))
        for section in KEYED_SECTIONS:
            for key, value in (getattr(content, section) or {}).items():
                ref = f"{section}/{key}"
                if key in keyed[section]:
                    problems.append(f"{doc.where((section, key))}: {section} '{key}' is also defined at {where[ref]}")
                    continue
                keyed[section][key] = value
                where[ref] = doc.where((section, key))
                docs[ref] = doc
        for section in SINGLE_SECTIONS:
            value = getattr(content, section)
            if value is None:
                continue
            if section in single:
                problems.append(f"{doc.where((section,))}: section '{section}' is also defined at {where[section]}")
                continue
            single[section] = value
            where[section] = doc.where((section,))
            if section == "centre":
                centre_doc = doc
        if content.flow is not None:
            flow_id = str(content.flow.get("id", path.stem))
            if flow_id in flows:
                problems.append(f"{doc.where(('flow',))}: flow '{flow_id}' is also defined at {where['flows/' + flow_id]}")
            else:
                flows[flow_id] = (doc, content.flow)
                where[f"flows/{flow_id}"] = doc.where(("flow",))
    for section, hint in (("centre", "content/centre.yaml"), ("crisis_lines", "content/crisis_lines.yaml")):
        if section not in single:
            problems.append(f"{content_dir}: the '{section}:' section is missing (expected in {hint})")
    if centre_doc is not None and keyed["texts"]:  # a folder without texts (a tool's, a test's) has none to name
        problems.extend(_centre_topic_problems(single["centre"], keyed["texts"], centre_doc))
    translations = load_translations(content_dir, problems)
    forms = load_forms(content_dir, keyed["texts"], problems)
    if problems:
        raise ContentError(problems)
    menus = {name: tuple(tuple(row) for row in rows) for name, rows in keyed["menus"].items()}
    centre: Centre = single["centre"]
    crisis_lines: CrisisLines = single["crisis_lines"]
    return Catalog(
        examples=MappingProxyType(examples),
        vocabulary=single.get("vocabulary") or Vocabulary(),
        safety=single.get("safety") or SafetyLexicon(),
        answers=MappingProxyType(keyed["answers"]),
        texts=MappingProxyType(keyed["texts"]),
        menus=MappingProxyType(menus),
        centre=centre,
        crisis_lines=crisis_lines,
        flows=MappingProxyType(flows),
        availability=MappingProxyType(single.get("availability") or {}),
        where=MappingProxyType(where),
        docs=MappingProxyType(docs),
        translations=MappingProxyType(translations),
        forms=MappingProxyType(forms),
    )
