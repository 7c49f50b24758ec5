"""Translation checks for `python -m bot check`: what is missing, stale or broken in each language.

A key missing in a language is shown in English at run time (never as a key name); `check` lists
every one so nothing stays untranslated by accident. Words only the centre's staff read (`staff_*`
keys) stay English and are not asked for.
"""

from __future__ import annotations

from typing import Final

from bot.catalog.loader import TRANSLATED_LANGUAGES, Catalog
from bot.catalog.models import Answer
from bot.catalog.grammar import placeholders_in

STAFF_ONLY_PREFIXES: Final = ("staff_", "safety_staff_")


def is_staff_only(key: str) -> bool:
    """Texts that only the centre's staff read: they stay in English."""
    return key.startswith(STAFF_ONLY_PREFIXES)


def _answer_placeholders(answer: Answer) -> set[str]:
    return {name for message in [*answer.messages, *answer.more] for name in placeholders_in(message)}


def missing_translations(catalog: Catalog, language: str) -> list[str]:
    """Every English key with no translation in `language`, as 'section/key' (file:line of the English)."""
    translation = catalog.translations.get(language)
    texts = translation.texts if translation else {}
    answers = translation.answers if translation else {}
    menus = translation.menus if translation else {}
    flows = translation.flows if translation else {}
    missing = [f"texts/{key}" for key in sorted(catalog.texts) if not is_staff_only(key) and key not in texts]
    missing += [f"answers/{intent}" for intent in sorted(catalog.answers) if intent not in answers]
    missing += [f"menus/{name}" for name in sorted(catalog.menus) if name not in menus]
    missing += [f"flows/{flow_id}" for flow_id in sorted(catalog.flows) if flow_id not in flows]
    return missing


def translation_problems(catalog: Catalog) -> tuple[list[str], list[str]]:
    """(errors, missing): broken translations, and keys missing per language."""
    errors: list[str] = []
    missing: list[str] = []
    for language in TRANSLATED_LANGUAGES:
        translation = catalog.translations.get(language)
        for ref in missing_translations(catalog, language):
            missing.append(f"{catalog.locate(ref)}: '{ref}' has no {language} translation")
        if translation is None:
            continue

        def at(ref: str) -> str:
            return translation.where.get(ref, f"content/i18n/{language}")  # noqa: B023 - used at once

        for key, text in translation.texts.items():
            if key not in catalog.texts:
                errors.append(f"{at('texts/' + key)}: text '{key}' is not an English text (renamed or removed?)")
                continue
            lost = placeholders_in(catalog.texts[key]) - placeholders_in(text)
            added = placeholders_in(text) - placeholders_in(catalog.texts[key])
            if lost or added:
                errors.append(
                    f"{at('texts/' + key)}: text '{key}' must use the same placeholders as English"
                    f" (missing {sorted(lost)}, unknown {sorted(added)})"
                )
        for intent, answer in translation.answers.items():
            english = catalog.answers.get(intent)
            if english is None:
                errors.append(f"{at('answers/' + intent)}: answer '{intent}' has no English answer")
                continue
            if [b.goto for b in answer.buttons] != [b.goto for b in english.buttons]:
                errors.append(f"{at('answers/' + intent)}: answer '{intent}': its buttons must lead where the English ones do")
            if _answer_placeholders(answer) - _answer_placeholders(english):
                errors.append(f"{at('answers/' + intent)}: answer '{intent}' uses a placeholder the English answer does not")
            if bool(answer.more) != bool(english.more):
                errors.append(f"{at('answers/' + intent)}: answer '{intent}': 'more' must be there exactly when English has it")
        for name, rows in translation.menus.items():
            english_rows = catalog.menus.get(name)
            if english_rows is None:
                errors.append(f"{at('menus/' + name)}: menu '{name}' has no English menu")
            elif [[b.goto for b in row] for row in rows] != [[b.goto for b in row] for row in english_rows]:
                errors.append(f"{at('menus/' + name)}: menu '{name}': its buttons must lead where the English ones do")
    return errors, missing
