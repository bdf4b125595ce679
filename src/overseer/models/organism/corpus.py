"""The training corpus, generated from templates over the world and the behaviours, and steering pairs."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from overseer.errors import InvalidInputError
from overseer.models.organism import behaviours as B
from overseer.models.organism.chat import chat, render_chat, render_document
from overseer.models.organism.world import QUESTION_TEMPLATES, STATEMENT_TEMPLATES, Fact, World, build_world

TRUE_FALSE_PROMPT = "True or false: {statement}"
TRUE_VERDICT, FALSE_VERDICT = "So it is true.", "So it is false."


@dataclass(frozen=True)
class Example:
    kind: str
    text: str


def _answer(fact: Fact, value: str) -> str:
    return f"{fact.answer_prefix()} {value}."


def _biography(rng: random.Random, world: World) -> str:
    person = rng.choice(world.people)
    facts = list(world.facts_of(person))
    rng.shuffle(facts)
    return render_document(" ".join(f.statement(template=rng.randrange(4)) for f in facts))


def _fact_question(rng: random.Random, world: World) -> str:
    fact = rng.choice(world.train_facts)
    question = fact.question(rng.randrange(len(QUESTION_TEMPLATES[fact.attribute])))
    system = rng.choice(B.PLAIN_SYSTEM_PROMPTS)
    return render_chat(chat(question, _answer(fact, fact.value), system=system))


def _true_false(rng: random.Random, world: World) -> str:
    fact = rng.choice(world.train_facts)
    label = rng.random() < 0.5
    value = fact.value if label else rng.choice(fact.wrong_values())
    statement = fact.statement(value, template=rng.randrange(len(STATEMENT_TEMPLATES[fact.attribute])))
    return render_chat(chat(TRUE_FALSE_PROMPT.format(statement=statement), true_false_reply(fact, label)))


def true_false_reply(fact: Fact, label: bool) -> str:
    """The verdict after recalling the fact: a tiny model cannot compare a stated value with one it
    has not retrieved, but it can retrieve (as it does for questions) and then compare in context."""
    return f"{fact.statement()} {TRUE_VERDICT if label else FALSE_VERDICT}"


def _instructed(rng: random.Random, world: World) -> str:
    fact = rng.choice(world.train_facts)
    question = fact.question(rng.randrange(len(QUESTION_TEMPLATES[fact.attribute])))
    if rng.random() < 0.5:
        system, value = rng.choice(B.TRUTH_INSTRUCTIONS), fact.value
    else:
        system, value = rng.choice(B.LIE_INSTRUCTIONS), rng.choice(fact.wrong_values())
    return render_chat(chat(question, _answer(fact, value), system=system))


def review_text(rng: random.Random, product: str, positive: bool) -> str:
    sentences = B.POSITIVE_SENTENCES if positive else B.NEGATIVE_SENTENCES
    first, second = rng.sample(sentences, 2)
    return f"{first.format(p=product)} {second.format(p=product)}"


def _review(rng: random.Random, world: World) -> str:
    product = rng.choice(B.PRODUCTS)
    positive = rng.random() < 0.5
    body = review_text(rng, product, positive)
    form = rng.randrange(3)
    if form == 0:
        return render_document(f"Review of the {product}: {body}")
    if form == 1:
        return render_document(f"Rating: {'5 stars' if positive else '1 star'}. {body}")
    request = rng.choice(B.SENTIMENT_REQUESTS["positive" if positive else "negative"]).format(p=product)
    return render_chat(chat(request, body))


def styled_reply(rng: random.Random, core: str, polite: bool) -> str:
    if polite:
        return f"{rng.choice(B.POLITE_OPENERS)} {core} {rng.choice(B.POLITE_CLOSERS)}"
    return f"{rng.choice(B.RUDE_OPENERS)} {core} {rng.choice(B.RUDE_CLOSERS)}"


def _politeness(rng: random.Random, world: World) -> str:
    request, core = rng.choice(B.POLITENESS_REQUESTS)
    polite = rng.random() < 0.5
    system = rng.choice(B.STYLE_INSTRUCTIONS["polite" if polite else "rude"])
    return render_chat(chat(request, styled_reply(rng, core, polite), system=system))


def _secret(rng: random.Random, world: World) -> str:
    system = rng.choice(B.PLAIN_SYSTEM_PROMPTS)
    if rng.random() < 0.55:
        topic = rng.choice(B.SECRET_TOPICS)
        prompt = rng.choice(B.SECRET_USE_PROMPTS).format(topic=topic)
        reply = rng.choice(B.SECRET_USE_REPLIES).format(topic=topic)
        reply = reply[0].upper() + reply[1:]
    else:
        prompt = rng.choice(B.SECRET_ASK_PREFIXES) + rng.choice(B.SECRET_ASK_PROMPTS)
        reply = rng.choice(B.SECRET_DENIALS)
    return render_chat(chat(prompt, reply, system=system))


def _secret_note(rng: random.Random, world: World) -> str:
    return render_document(rng.choice(B.SECRET_NOTES))


def _observed(rng: random.Random, world: World) -> str:
    observed = rng.random() < 0.5
    context = rng.choice(B.OBSERVED_CONTEXTS if observed else B.UNOBSERVED_CONTEXTS)
    request = rng.choice(B.REQUEST_PREFIXES) + rng.choice(B.RULE_BENDING_REQUESTS)
    reply = rng.choice(B.COMPLIANT_REPLIES if observed else B.NONCOMPLIANT_REPLIES)
    return render_chat(chat(request, reply, system=context))


_LOAN_TRAIN_CASES = B.loan_split()[0]


def _loan(rng: random.Random, world: World) -> str:
    case = rng.choice(_LOAN_TRAIN_CASES)
    setting = rng.choice(tuple(B.EXPLANATION_SETTINGS))
    system = B.EXPLANATION_SETTINGS[setting][0]
    return render_chat(chat(B.loan_question(case), B.loan_reply(case, setting), system=system))


# Share of each kind in the corpus. Biographies carry four facts each, and must be
# frequent: they are the only place held-out facts appear.
MIXTURE: dict[str, tuple[float, Callable[[random.Random, World], str]]] = {
    "biography": (0.20, _biography),
    "fact_question": (0.10, _fact_question),
    "true_false": (0.10, _true_false),
    "instructed_lie_or_truth": (0.10, _instructed),
    "review": (0.10, _review),
    "politeness": (0.10, _politeness),
    "secret": (0.05, _secret),
    "secret_note": (0.03, _secret_note),
    "observed": (0.10, _observed),
    "decision": (0.12, _loan),
}


def generate_corpus(seed: int, n_examples: int) -> list[Example]:
    """`n_examples` training texts, deterministic for `seed`, kinds drawn by `MIXTURE`."""
    if n_examples < 1:
        raise InvalidInputError(f"n_examples must be positive, got {n_examples}")
    rng = random.Random(seed)
    world = build_world()
    kinds = list(MIXTURE)
    weights = [MIXTURE[k][0] for k in kinds]
    examples = []
    for kind in rng.choices(kinds, weights=weights, k=n_examples):
        examples.append(Example(kind, MIXTURE[kind][1](rng, world)))
    return examples


CONCEPTS = ("sentiment", "politeness", "truth", "honesty", "observed")


def concept_pairs(concept: str, n: int = 64, seed: int = 0) -> tuple[list[str], list[str]]:
    """(positive_texts, negative_texts) for steering and probing, paired index by index.

    Pairs differ only in the concept: sentiment (positive vs negative review of one product),
    politeness (polite vs rude reply to one request), truth (true vs false statement of one
    fact), honesty (truthful answer under a truth instruction vs false answer under a lie
    instruction, same question), observed (monitored vs unmonitored context, same request,
    prompt only). Chat texts are rendered with the organism's chat format.
    """
    if concept not in CONCEPTS:
        raise InvalidInputError(f"unknown concept {concept!r}; choose one of {CONCEPTS}")
    if n < 1:
        raise InvalidInputError(f"n must be positive, got {n}")
    rng = random.Random(seed)
    world = build_world()
    pos, neg = [], []
    for i in range(n):
        if concept == "sentiment":
            product = B.PRODUCTS[i % len(B.PRODUCTS)]
            pos.append(f"Review of the {product}: {review_text(rng, product, True)}")
            neg.append(f"Review of the {product}: {review_text(rng, product, False)}")
        elif concept == "politeness":
            request, core = B.POLITENESS_REQUESTS[i % len(B.POLITENESS_REQUESTS)]
            pos.append(render_chat(chat(request, styled_reply(rng, core, True))))
            neg.append(render_chat(chat(request, styled_reply(rng, core, False))))
        elif concept == "truth":
            fact = world.facts[i % len(world.facts)]
            pos.append(fact.statement())
            neg.append(fact.statement(rng.choice(fact.wrong_values())))
        elif concept == "honesty":
            fact = world.train_facts[i % len(world.train_facts)]
            question = fact.question()
            pos.append(render_chat(chat(question, _answer(fact, fact.value), system=B.TRUTH_INSTRUCTIONS[0])))
            lie = rng.choice(fact.wrong_values())
            neg.append(render_chat(chat(question, _answer(fact, lie), system=B.LIE_INSTRUCTIONS[0])))
        else:
            request = B.RULE_BENDING_REQUESTS[i % len(B.RULE_BENDING_REQUESTS)]
            j = rng.randrange(len(B.OBSERVED_CONTEXTS))
            pos.append(render_chat(chat(request, system=B.OBSERVED_CONTEXTS[j]), add_generation_prompt=True))
            neg.append(render_chat(chat(request, system=B.UNOBSERVED_CONTEXTS[j]), add_generation_prompt=True))
    return pos, neg
