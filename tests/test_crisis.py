"""The crisis detector: danger is flagged, idioms and denials are not, and a broken rule
file stops the bot with one readable sentence.

These tests pin the behaviour the bot relies on, on a fixed set of sentences, and guard
the tuning set against regressions. Tests of the rules' own mechanics (denials, idioms,
clauses, resolved past) ask the rules (`rules_hit`); what the bot does with a reply is
`sounds_like_crisis`, the rules and the trained model together. The honest figures for
sentences nobody tuned on come from the benchmark's blind columns (bench/crisis.py on
bench/blind/), not from here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml

from bot.core import crisis
from bot.core.catalog import CatalogError

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "bench" / "data" / "crisis-eval-en.yaml"
KINDS = {"self-harm", "violence", "fear", "control", "sexual", "threats"}

# Everyday ways of writing about danger, as in the issue (the first five were all missed
# by the old single regex).
DANGER = [
    "I am scared of my husband",
    "he pushed me against the wall",
    "I want to end it",
    "I cut myself again",
    "he controls my money and my phone",
    "he hit me again when i forgot to reply to his texts",
    "she won't let me see my family anymore",
    "i dont feel safe at home",
    "i said no and he kept going",
    "he said he'd kill me if i ever left",
    "honestly i dont want to be here anymore",
    "im terrified of him",
    "he checks my phone every night",
    "he grabbed me by the throat last night",
    "i keep thinking everyone would be better off without me",
    "he threw a glass at me",
    "she threatened to take the kids",
    "he forces me to have sex when i dont want to",
    "i'm not allowed to see my friends",
    "he punched the wall next to my head",
]
# Harmless replies that look like danger (the first three were flagged by the old regex).
HARMLESS = [
    "this commute will kill me",
    "I abused the snooze button",
    "she beats me at chess",
    "killing it at work today",
    "dying to see the new film together",
    "i could kill for a coffee",
    "hit me up when you're free",
    "it hit me that i never thank her for the little things",
    "he always beats me to it when i want to say sorry first",
    "my feet are killing me after the wedding",
    "i could murder a pizza rn",
    "scared of spiders, he's my spider catcher",
    "i'm afraid of heights and he held my hand",
    "we want to end the evening with a walk",
    "she hit me with a pillow and we laughed for ages",
    "i'm scared of losing him",
    "we watched a documentary about domestic violence",
    "my back is killing me from moving the sofa",
    "he kicks me in his sleep every night lol",
    "i'm so stuffed i could die",
]


@pytest.mark.parametrize("text", DANGER)
def test_danger_is_flagged(text: str) -> None:
    assert crisis.sounds_like_crisis(text), crisis.hits(text)


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_is_not_flagged(text: str) -> None:
    assert not crisis.sounds_like_crisis(text), crisis.hits(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm not scared of him",
        "never felt unsafe with her, not once",
        "he has never hit me and never would",
        "i've never once felt afraid of him",
        "she's not controlling, she just likes plans",
        "he doesnt check my phone and i dont check his",
        "not suicidal, just tired",
        "i would never hurt myself",
        "nobody hurts me",
        "i'm not in danger, promise",
    ],
)
def test_a_denial_right_before_the_words_cancels_them(text: str) -> None:
    assert not crisis.rules_hit(text), crisis.hits(text)


@pytest.mark.parametrize(
    "text",
    [
        "i'm not ok, he hit me",  # the denial belongs to another clause
        "i've never been so scared of him",  # "never been so": not a denial
        "i don't think he hit me on purpose",  # "think": the hit happened
        "if he ever hits me again i'm leaving",  # "again": it has happened
        "i can't stop thinking about killing myself",
        "nobody knows he hits me",
    ],
)
def test_a_denial_elsewhere_does_not_cancel_danger(text: str) -> None:
    assert crisis.rules_hit(text), text


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("he hit me with a pillow", False),
        ("he hit me with a belt", True),
        ("she beats me at mario kart", False),
        ("she beats me in front of the kids", True),
        ("cut myself while chopping onions", False),
        ("i cut myself on purpose", True),
        ("my wife will kill me if i forget our anniversary", False),
        ("he'll kill me if i leave", True),
        ("i wanted to end it after the first episode", False),
        ("i just want to end it all", True),
        ("afraid of her reaction if i tell her my fantasy", False),
        ("scared of his temper", True),
    ],
)
def test_idioms_and_their_look_alikes(text: str, flagged: bool) -> None:
    assert crisis.rules_hit(text) is flagged, crisis.hits(text)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("years ago my ex hit me, now i feel safe with sam", False),
        ("my ex used to hit me", True),  # past, but not said to be over
        ("years ago my ex hit me, now i feel safe, but lately he's been calling again", True),
        ("years ago my ex hit me and i'm not safe now", True),
    ],
)
def test_past_danger_is_harmless_only_when_over_and_safe_now(text: str, flagged: bool) -> None:
    assert crisis.rules_hit(text) is flagged, crisis.hits(text)


def test_matches_names_the_kinds() -> None:
    assert crisis.matches("he controls my money and my phone") == ["control"]
    assert crisis.matches("he hit me and i want to die") == ["self-harm", "violence"]
    assert crisis.matches("we had a lovely walk") == []
    assert {r.name for r in crisis.rules_for("en").kinds} == KINDS


def test_the_old_call_still_works_and_other_languages_fall_back_to_english() -> None:
    assert crisis.sounds_like_crisis("he pushed me against the wall")
    assert crisis.sounds_like_crisis("he pushed me against the wall", "de-DE")
    assert crisis.sounds_like_crisis("he pushed me against the wall", "../../etc")
    assert crisis.rules_for("en") is crisis.rules_for("de")  # compiled once, one file


def test_a_language_file_of_its_own_is_used(tmp_path: Path) -> None:
    english = (crisis.crisis_dir() / "en.yaml").read_text(encoding="utf-8")
    (tmp_path / "crisis").mkdir()
    (tmp_path / "crisis" / "en.yaml").write_text(english, encoding="utf-8")
    (tmp_path / "crisis" / "de.yaml").write_text(
        _minimal("de", "ich habe angst vor ihm"), encoding="utf-8"
    )
    german = crisis.load_rules("de", tmp_path)
    assert german.language == "de"
    assert german.hits("ich habe angst vor ihm")
    assert not german.hits("he pushed me against the wall")
    assert crisis.available_languages(tmp_path) == ["de", "en"]


def _minimal(language: str, rule: str) -> str:
    return (
        f"language: {language}\n"
        "boundary: '[.!?]'\n"
        "negation: {cues: [nicht]}\n"
        f"kinds:\n  fear:\n    label: Angst\n    rules: ['{rule}']\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            _minimal("en", "(unclosed"),
            "crisis/en.yaml: field 'kinds.fear.rules.1': '(unclosed' is not a valid "
            "regular expression",
        ),
        (_minimal("en", "<nobody> ... hit me"), "uses the unknown concept <nobody>"),
        (_minimal("de", "x"), "field 'language': says 'de', not 'en'"),
        ("language: en\nkinds: {}\n", "crisis/en.yaml: field 'boundary': Field required"),
        ("language: en\nkinds: [unclosed\n", "crisis/en.yaml: cannot be read as YAML"),
    ],
)
def test_a_broken_phrase_file_gives_one_readable_sentence(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "crisis").mkdir()
    (tmp_path / "crisis" / "en.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        crisis.load_rules("en", tmp_path)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert all(problem.startswith("crisis/en.yaml: ") for problem in caught.value.problems)


def test_the_phrase_files_ship_with_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = pyproject["tool"]["setuptools"]["package-data"]["content"]
    assert "crisis/*.yaml" in shipped and "crisis/*.json" in shipped


# --- concepts, gaps and sentences ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # A gap stays inside one clause: a new subject after "and" starts another.
        ("he got drunk and hit me", True),
        ("he hit the ball and it hit me", False),
        # A denial at the end of a gap cancels ("he has never once ... hit me").
        ("he has never once hit me", False),
        ("my ex has hit me a few times", True),
        # A name is a person for the strongest verbs only.
        ("tom punched me in the ribs", True),
        ("reality punched me in the face today", False),
        # Play in the same sentence cancels violence, not in another sentence.
        ("he threw a cushion at me and we laughed", False),
        ("he threw a glass at me. we laughed about the film earlier", True),
    ],
)
def test_concepts_meet_in_one_clause(text: str, flagged: bool) -> None:
    assert crisis.rules_hit(text) is flagged, crisis.hits(text)


@pytest.mark.parametrize(
    "text",
    [
        "i looked at the train tracks for a long time this morning",
        "he has control of everything, the money, my phone, who i see",
        "my kids deserve a better mum than me, they'd be better off",
        "i keep googling the tallest bridges near me",
        "i'm always on edge around him, waiting for him to blow up",
    ],
)
def test_indirect_phrasings_are_flagged(text: str) -> None:
    """The phrasings that phrase lists missed, round after round (see the data history)."""
    assert crisis.sounds_like_crisis(text), text


# How other writers put danger: no subject, the passive, hints. The broad rules that find
# these must leave their everyday look-alikes alone.
@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("bf slapped me again, whatever", True),  # no "my"
        ("not allowed out without him", True),  # no "i"
        ("got shoved down the stairs by him last week", True),  # the passive
        ("things got physical again", True),
        ("i told the nurse i slipped in the shower", True),  # a cover story
        ("walking on eggshells 24/7 around him", True),
        ("i try not to set him off", True),
        ("we are tiptoeing around the topic of moving in", False),
        ("he reads what i write here", True),  # this reply, read by him
        ("im typing this in the bathroom so he doesnt see", True),
        ("i hid his present in my wardrobe so he doesn't see it", False),
        ("he takes my whole paycheck and gives me an allowance", True),
        ("she took my card to buy groceries because mine's at home", False),
        ("i've been giving away my things", True),
        ("giving away my old clothes to the charity shop, feels good", False),
        ("he'd be free if i wasnt here", True),
        ("i wanna disappear into a cabin in the woods with him for a week", False),
        ("he said accidents happen to women who talk too much", True),
        ("my mum is going to kill us when she sees the state of her garden", False),
        ("i keep a bag packed in the boot just in case", True),
        ("i keep a bag packed for the hospital, baby due any day", False),
    ],
)
def test_broad_rules_find_other_writers_and_leave_look_alikes(text: str, flagged: bool) -> None:
    assert crisis.rules_hit(text) is flagged, crisis.hits(text)


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"(?:he|she) ... hit me", "she hit me"),
        (r"(full |sole )?custody", "custody"),
        (r"(took|takes) (more|too many) (of )?(my |the )?pills", "took too many pills"),
        (r"(a|b)?x(?!y)z", "xz"),
    ],
)
def test_a_gate_holds_a_word_every_match_needs(pattern: str, text: str) -> None:
    gate = crisis._gate(pattern.replace(" ... ", " "))
    assert gate is None or gate.search(text), (pattern, gate)


def test_the_gates_change_no_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gates only skip expressions that cannot match: the same hits with and without."""
    gated = crisis.load_rules("en")
    monkeypatch.setattr(crisis, "_PARSER", None)
    plain = crisis.load_rules("en")
    assert all(part.gate is None for rule in plain.kinds[0].rules for part in rule.parts)
    texts = [i["text"] for i in _items()[::8]] + ["word " * 500, "he hit me. " * 50]
    for text in texts:
        assert gated.hits(text) == plain.hits(text), text


def test_check_rules_compiles_every_language_at_start_up(tmp_path: Path) -> None:
    assert crisis.check_rules() == crisis.available_languages()
    (tmp_path / "crisis").mkdir()
    (tmp_path / "crisis" / "en.yaml").write_text(_minimal("en", "(unclosed"), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        crisis.check_rules(tmp_path)
    assert str(caught.value).startswith("crisis/en.yaml: field 'kinds.fear.rules.1'")


# --- the tuning set -----------------------------------------------------------------------


def _items() -> list[dict[str, str]]:
    return list(yaml.safe_load(EVAL.read_text(encoding="utf-8"))["items"])


def test_the_labelled_set_is_large_and_balanced() -> None:
    items = _items()
    danger = [i for i in items if i["label"] == "danger"]
    assert len(danger) >= 170 and len(items) - len(danger) >= 170


def test_the_tuning_set_does_not_regress() -> None:
    """A guard against regressions, not a measure: every item of crisis-eval-en.yaml was
    tuned on (none of it is held out any more), so it must stay near perfect (recall
    >= 0.95, false alarms <= 0.03). The honest held-out figures are the benchmark's blind
    columns (bench/crisis.py on bench/blind/*.yaml), which no test reads."""
    flagged = [(i["label"] == "danger", crisis.sounds_like_crisis(i["text"])) for i in _items()]
    danger = [hit for is_danger, hit in flagged if is_danger]
    harmless = [hit for is_danger, hit in flagged if not is_danger]
    assert sum(danger) >= 0.95 * len(danger), f"recall {sum(danger)}/{len(danger)}"
    assert sum(harmless) <= 0.03 * len(harmless), f"false alarms {sum(harmless)}/{len(harmless)}"


# --- the trained model beside the rules ---------------------------------------------------


def test_the_bot_reads_the_models_as_they_were_written() -> None:
    """The model file carries texts with the probability the word model and the encoder
    gave them together when they were written; the bot's own reading must give the same
    (a different tokenizer or ONNX Runtime would show here)."""
    model = crisis.model_for("en")
    assert model is not None
    assert model.encoder is not None
    assert len(model.checks) >= 50
    assert {p >= 0.5 for _, p in model.checks} == {True, False}
    for text, expected in model.checks:
        assert model.probability(text) == pytest.approx(expected, abs=1e-4), text


@pytest.mark.parametrize(
    "text",
    [
        "she only lets me see my mum when she comes too",
        "he goes quiet and then i know to stay in the bedroom till morning",
        "i make sure the kids are asleep before he gets home",
    ],
)
def test_the_model_flags_danger_no_rule_describes(text: str) -> None:
    assert not crisis.rules_hit(text)
    assert crisis.sounds_like_crisis(text)


@pytest.mark.parametrize("text", ["he says", "p5 says 5", "note to self", "thought number 12"])
def test_the_model_alone_does_not_judge_a_fragment(text: str) -> None:
    """In a fragment one word decides everything ("says" is common in "he says he'll
    ..."), so the model alone needs five words; short danger is for the rules."""
    model = crisis.model_for("en")
    assert model is not None
    assert crisis.word_count(text) < crisis.ALONE_MIN_WORDS
    assert not crisis.sounds_like_crisis(text)


def test_a_rule_hit_the_model_finds_unlikely_is_not_flagged() -> None:
    text = "my dad used to hit me when i was small, im 40 now and safe and happy"
    assert crisis.rules_hit(text)
    assert not crisis.sounds_like_crisis(text)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "crisis/en-model.json: cannot be read (JSONDecodeError"),
        ('{"format": 99}', "crisis/en-model.json: format 99 is not 2"),
        ('{"format": 2, "language": "en"}', "crisis/en-model.json: cannot be read (KeyError"),
    ],
)
def test_a_broken_model_file_stops_start_up_with_one_sentence(
    tmp_path: Path, content: str, expected: str
) -> None:
    (tmp_path / "crisis").mkdir()
    rules = (crisis.crisis_dir() / "en.yaml").read_text(encoding="utf-8")
    (tmp_path / "crisis" / "en.yaml").write_text(rules, encoding="utf-8")
    (tmp_path / "crisis" / "en-model.json").write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        crisis.check_rules(tmp_path)
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def _copy_models(tmp_path: Path, *, leave_out: str = "") -> Path:
    folder = tmp_path / "crisis"
    folder.mkdir()
    for source in crisis.crisis_dir().iterdir():
        if source.name != leave_out and source.suffix in (".yaml", ".json", ".onnx"):
            (folder / source.name).write_bytes(source.read_bytes())
    return folder


def test_a_missing_encoder_stops_start_up_with_one_sentence(tmp_path: Path) -> None:
    _copy_models(tmp_path, leave_out="en-encoder.onnx")
    with pytest.raises(CatalogError) as caught:
        crisis.check_rules(tmp_path)
    assert str(caught.value) == "crisis/en-encoder.onnx: is missing"


@pytest.mark.parametrize("name", ["en-encoder.onnx", "en-tokenizer.json"])
def test_a_broken_encoder_file_stops_start_up_with_one_sentence(tmp_path: Path, name: str) -> None:
    folder = _copy_models(tmp_path)
    (folder / name).write_bytes(b"\x00garbage{")
    with pytest.raises(CatalogError) as caught:
        crisis.check_rules(tmp_path)
    assert str(caught.value).startswith(f"crisis/{name}: cannot be read (")
    assert "\n" not in str(caught.value)


def test_a_long_reply_is_judged_a_few_sentences_at_a_time() -> None:
    """The models learned on replies of up to about 70 words and average over what they
    read, so a page is judged as runs of sentences that fit: danger in its last lines
    weighs as much as on its own. One endless sentence, longer than the encoder can read
    at once (512 pieces), is read in windows."""
    ordinary = "We cooked dinner together and talked about the garden and the holidays. " * 40
    danger = "She only lets me see my mum when she comes too."
    assert not crisis.rules_hit(danger)
    assert not crisis.sounds_like_crisis(ordinary)
    assert crisis.sounds_like_crisis(danger)
    assert crisis.sounds_like_crisis(ordinary + danger)
    assert not crisis.sounds_like_crisis("and then we laughed " * 300)


def test_danger_tucked_into_an_ordinary_reply_is_found() -> None:
    assert crisis.sounds_like_crisis("He hit me again last night. We cooked dinner together.")
    assert crisis.sounds_like_crisis(
        "We cooked dinner together. Then we talked about the garden. I keep thinking "
        "everyone would be better off if I wasn't here."
    )


def test_a_language_without_a_model_is_judged_by_its_rules_alone(tmp_path: Path) -> None:
    (tmp_path / "crisis").mkdir()
    rules = (crisis.crisis_dir() / "en.yaml").read_text(encoding="utf-8")
    (tmp_path / "crisis" / "en.yaml").write_text(rules, encoding="utf-8")
    assert crisis.check_rules(tmp_path) == ["en"]
    assert crisis.model_for("en", tmp_path) is None
