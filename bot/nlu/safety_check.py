"""The whole safety decision: the phrase lexicon and the learned model, fused into one assessment.

- The model's probability that the message is a crisis or danger at home (1 minus
  P(not_crisis)) decides the tier: from the alert threshold, "alert" (the full safety answer and a
  staff alert); from the check-in threshold, "check_in" (risk possible but not clear: a gentle
  question first); below it, nothing. Both thresholds were picked on the k-fold over the corpus by
  the rule in `bot.nlu.safety_training.pick_thresholds` and are stored with the model.
- A lexicon hit is evidence the model is weighed against, not a verdict on its own: it lifts
  "nothing" to at least a check-in unless the model is very confident the message is safe, i.e.
  its probability is under a floor: `explicit_floor` (0.1: P(safe) over 90%) for the explicit
  patterns (EXPLICIT_PATTERNS: suicide, kill myself, want to die, not want to live, a method,
  being hit), the stricter `hit_floor` (0.2) for the others, which fire far more often on safe lines (a joke, a
  film, "my dad hits the gym"). Why: standing hits fired on 15% of the corpus's hard negatives and
  ate the check-in budget, forcing the thresholds up; letting the model overrule a hit it is sure
  of caught 12 points more crises on the k-fold at the same budgets (see safety_training).
  An explicit hit the model sees any risk in (from the check-in threshold) is an alert at once:
  "i want to kill myself" said plainly needs no question first. A hit keeps its label and pattern id. Without a model (or a message under MIN_WORDS words)
  a hit is an alert, as the lexicon alone always was. The lexicon reads the message as typed and,
  when it holds Devanagari, romanised too, so a Hinglish phrase covers Hindi in either script.
- `means`: a crisis that names a plan, a method or a means (the lexicon's crisis.method pattern,
  or a model-predicted crisis whose words hit the lexicon's `means` group): the lead's escalation.

History ("i used to cut"), hypotheticals, questions about the bot and third parties are the
model's job, learnt from the corpus's hard negatives, not keyword rules here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from bot.catalog.safety_model import PhraseCompiler, SafetyLabel, SafetyLexicon
from bot.nlu.hindi import default_normaliser, has_devanagari, normalise_hindi
from bot.nlu.safety import SafetyDetector, SafetyVerdict
from bot.nlu.safety_classifier import Prediction, SafetyModel, Thresholds

Tier = Literal["alert", "check_in"]
METHOD_PATTERN: Final = "crisis.method"
MODEL_EVIDENCE: Final = "model"
MATCHER_EVIDENCE: Final = "matcher"
# Lexicon patterns that say it outright: their hits need the model at its most confident to be let go.
EXPLICIT_PATTERNS: Final = frozenset(
    {"crisis.suicide", "crisis.kill_myself", "crisis.want_to_die", "crisis.not_want_to_live", "crisis.method", "unsafe.hits_me"}
)


@dataclass(frozen=True)
class SafetyAssessment:
    """The safety check fired. `evidence`: "pattern:<lexicon id>", "model" or "matcher";
    `pattern`: the lexicon id or "model"/"matcher" (what is stored with a safety event);
    `probability`: the model's P(crisis or unsafe_at_home), 1.0 for a lexicon hit without a model."""

    label: SafetyLabel
    probability: float
    evidence: str
    tier: Tier
    pattern: str
    means: bool = False


def _means_searcher(lexicon: SafetyLexicon) -> re.Pattern[str] | None:
    """The lexicon's `means` group as one search over a normalised message, if the group exists."""
    if "means" not in lexicon.groups:
        return None
    regex = PhraseCompiler(lexicon.groups).compile("{means}").regex
    return re.compile(f"(?:^| )(?:{regex})")


def tier_for(probability: float, thresholds: Thresholds) -> Tier | None:
    """The model's tier for a probability: alert, check_in, or None."""
    if probability >= thresholds.alert:
        return "alert"
    if probability >= thresholds.check_in:
        return "check_in"
    return None


def hit_floor(pattern: str, thresholds: Thresholds) -> float:
    """The probability under which a hit on this pattern is let go ("crisis.method+despite_negation"
    is crisis.method)."""
    return thresholds.explicit_floor if pattern.split("+")[0] in EXPLICIT_PATTERNS else thresholds.hit_floor


def fuse(verdict: SafetyVerdict | None, prediction: Prediction | None, thresholds: Thresholds | None, names_means: bool) -> SafetyAssessment | None:
    """The rule, pure: the model's tier, a lexicon hit lifting nothing to a check-in above its floor."""
    if verdict is not None:
        means = verdict.label == "crisis" and (verdict.pattern.startswith(METHOD_PATTERN) or names_means)
        if prediction is None or thresholds is None:
            return SafetyAssessment(verdict.label, 1.0, f"pattern:{verdict.pattern}", "alert", verdict.pattern, means)
        lifted = tier_for(prediction.risk, thresholds)
        if verdict.pattern.split("+")[0] in EXPLICIT_PATTERNS and lifted == "check_in":
            # "i want to kill myself" said plainly is certain: when the model sees any risk at all, it is an alert.
            lifted = "alert"
        if lifted is None and prediction.risk >= hit_floor(verdict.pattern, thresholds):
            lifted = "check_in"
        if lifted is None:
            return None
        return SafetyAssessment(verdict.label, round(prediction.risk, 4), f"pattern:{verdict.pattern}", lifted, verdict.pattern, means)
    if prediction is None or thresholds is None:
        return None
    tier = tier_for(prediction.risk, thresholds)
    if tier is None:
        return None
    label: SafetyLabel = "crisis" if prediction.label == "crisis" else "unsafe_at_home"
    return SafetyAssessment(label, round(prediction.risk, 4), MODEL_EVIDENCE, tier, MODEL_EVIDENCE, label == "crisis" and names_means)


def from_verdict(verdict: SafetyVerdict, evidence: str | None = None) -> SafetyAssessment:
    """A bare verdict (a stand-in detector, the matcher's backstop) as an alert."""
    source = evidence or f"pattern:{verdict.pattern}"
    return SafetyAssessment(verdict.label, 1.0, source, "alert", verdict.pattern, verdict.pattern.startswith(METHOD_PATTERN))


@dataclass(frozen=True)
class SafetyCheck:
    """The lexicon and (when trained) the model; built once at start-up, pure afterwards."""

    lexicon: SafetyDetector
    model: SafetyModel | None
    means: re.Pattern[str] | None = None

    @classmethod
    def build(cls, detector: SafetyDetector, lexicon: SafetyLexicon, model: SafetyModel | None) -> SafetyCheck:
        return cls(detector, model, _means_searcher(lexicon))

    def lexicon_verdict(self, text: str) -> SafetyVerdict | None:
        """The lexicon on the message as typed, then (if it holds Devanagari) romanised."""
        verdict = self.lexicon.check(text)
        if verdict is None and has_devanagari(text):
            verdict = self.lexicon.check(default_normaliser().romanise(text.lower()))
        return verdict

    def names_means(self, text: str) -> bool:
        """Whether the message names a means of self-harm (the lexicon's `means` group)."""
        if self.means is None:
            return False
        forms = (" ".join(self.lexicon.normalise(text)), normalise_hindi(text))
        return any(self.means.search(form + " ") for form in forms)

    def check(self, text: str) -> SafetyAssessment | None:
        """The assessment of one message, or None (tier none: answer normally)."""
        verdict = self.lexicon_verdict(text)
        prediction = self.model.predict(text) if self.model is not None and self.model.applies(text) else None
        thresholds = self.model.thresholds if self.model is not None else None
        fires = verdict is not None or (prediction is not None and thresholds is not None and tier_for(prediction.risk, thresholds))
        return fuse(verdict, prediction, thresholds, bool(fires) and self.names_means(text))

    def explained_away(self, text: str) -> bool:
        """The lexicon recognises an idiom or a denial here (see `SafetyDetector.explained_away`)."""
        return self.lexicon.explained_away(text)
