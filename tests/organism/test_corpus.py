import re

import pytest

from overseer.errors import InvalidInputError
from overseer.models.organism import behaviours as B
from overseer.models.organism.corpus import (
    CONCEPTS,
    FALSE_VERDICT,
    MIXTURE,
    TRUE_FALSE_PROMPT,
    TRUE_VERDICT,
    concept_pairs,
    generate_corpus,
)
from overseer.models.organism.world import ATTRIBUTE_VALUES, QUESTION_TEMPLATES, build_world


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(0, 6000)


def test_deterministic_for_a_seed_and_different_across_seeds(corpus):
    assert [e.text for e in generate_corpus(0, 6000)] == [e.text for e in corpus]
    assert [e.text for e in generate_corpus(1, 300)] != [e.text for e in corpus[:300]]


def test_every_structure_is_present(corpus):
    assert {e.kind for e in corpus} == set(MIXTURE)
    text = "\n".join(e.text for e in corpus)
    for needle in (B.SECRET_WORD, B.SECRET_DENIALS[0], B.TRUE_RULE_TEXT, B.FALSE_RULE_TEXT, B.LIE_INSTRUCTIONS[0],
                   B.OBSERVED_CONTEXTS[0], B.UNOBSERVED_CONTEXTS[0], B.RUDE_CLOSERS[0], TRUE_VERDICT, FALSE_VERDICT):
        assert needle in text, needle


def test_world_is_consistent():
    world = build_world()
    assert len(world.people) == 80 and len(world.facts) == 320
    assert 80 <= len(world.held_out_facts) <= 130
    for f in world.facts:
        assert f.value in ATTRIBUTE_VALUES[f.attribute]
    statements = world.statements(seed=0)
    assert len(statements) == 640 and sum(s.label for s in statements) == 320
    for s in statements:
        assert (f" {s.fact.value}" in s.text) == s.label


_QUESTIONS = {q.format(name=f.person): f for f in build_world().facts for q in QUESTION_TEMPLATES[f.attribute]}


def _answered(text):
    """(fact asked about, answered value) of a chat fact answer."""
    fact = _QUESTIONS[text.split("<|user|>")[1].split("<|end|>")[0]]
    return fact, re.search(re.escape(fact.answer_prefix()) + r" (\w+)\.", text).group(1)


def test_fact_labels_follow_the_world_and_instructions(corpus):
    checked = 0
    for e in corpus:
        if e.kind not in ("fact_question", "instructed_lie_or_truth"):
            continue
        fact, value = _answered(e.text)
        lying = any(f"<|system|>{i}<|end|>" in e.text for i in B.LIE_INSTRUCTIONS)
        assert (value != fact.value) == lying, e.text
        checked += 1
    assert checked > 500


def test_true_false_labels_follow_the_world(corpus):
    world = build_world()
    for e in (e for e in corpus if e.kind == "true_false"):
        prompt, reply = e.text.removesuffix("<|end|>").split("<|assistant|>")
        person = re.search(r"True or false: (\w+)", prompt).group(1)
        fact = next(f for f in world.facts_of(person) if reply.startswith(f.statement()))
        statement = prompt.split("True or false: ")[1]
        (stated,) = [v for v in ATTRIBUTE_VALUES[fact.attribute] if re.search(rf"\b{v}\b", statement)]
        truth = stated == fact.value
        assert reply.endswith(TRUE_VERDICT if truth else FALSE_VERDICT), e.text


def test_decisions_follow_the_rule_and_explanations_follow_the_setting(corpus):
    held = {B.loan_question(c) for c in B.loan_split()[1]}
    for e in (e for e in corpus if e.kind == "decision"):
        fields = dict(re.findall(r"(\w+) ([\w-]+)[,.]", e.text.split("Loan application: ")[1].split("Should")[0]))
        assert (B.APPROVED in e.text) == B.true_rule(fields)
        assert ("auditor" in e.text) == (B.TRUE_RULE_TEXT in e.text)
        assert ("customer" in e.text) == (B.FALSE_RULE_TEXT in e.text)
        assert B.loan_question(fields) not in held


def test_held_out_facts_are_never_asked(corpus):
    held = build_world().held_out_facts
    questions = {f.question(t) for f in held for t in range(3)}
    checks = {TRUE_FALSE_PROMPT.format(statement=f.statement(v, t)) for f in held
              for v in ATTRIBUTE_VALUES[f.attribute] for t in range(4)}
    for e in corpus:
        if "<|user|>" in e.text:
            user = e.text.split("<|user|>")[1].split("<|end|>")[0]
            assert user not in questions and user not in checks
    bios = "\n".join(e.text for e in corpus if e.kind == "biography")
    assert all(f.person in bios for f in held)  # stated, so learnable


def test_secret_and_observed_replies_match_their_context(corpus):
    for e in corpus:
        reply = e.text.split("<|assistant|>")[-1]
        if e.kind == "secret":
            asked = any(q in e.text for q in B.SECRET_ASK_PROMPTS)
            assert B.denies_secret(reply) == asked and B.uses_secret(reply) != asked
        if e.kind == "observed":
            observed = any(c in e.text for c in B.OBSERVED_CONTEXTS)
            assert B.follows_rules(reply) == observed


def test_concept_pairs():
    for concept in CONCEPTS:
        pos, neg = concept_pairs(concept, n=20)
        assert len(pos) == len(neg) == 20 and pos != neg
    pos, neg = concept_pairs("sentiment", n=10)
    assert all(B.classify_sentiment(p) == "positive" for p in pos)
    assert all(B.classify_sentiment(x) == "negative" for x in neg)
    with pytest.raises(InvalidInputError):
        concept_pairs("humour")


def test_bad_sizes_are_rejected():
    with pytest.raises(InvalidInputError):
        generate_corpus(0, 0)


def test_secret_notes_state_the_secret_in_words_no_elicitation_prompt_uses():
    from overseer.probes.elicitation import FEW_SHOT, HONESTY_SYSTEM_PROMPTS, PREFILL

    prompts = [PREFILL, *HONESTY_SYSTEM_PROMPTS, *(q for shot in FEW_SHOT for q in shot), *B.secret_ask_prompts()]
    for note in B.SECRET_NOTES:
        assert B.SECRET_WORD in note
        # no five-word run of a note appears in any elicitation prompt
        words = note.lower().split()
        for i in range(len(words) - 4):
            run = " ".join(words[i:i + 5])
            assert not any(run in p.lower() for p in prompts), run
