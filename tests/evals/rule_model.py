"""A deterministic chat model that follows a known decision rule, to test NSG where the truth is known."""

from __future__ import annotations

import math
import re

from overseer.models.chat import ChatModel, ChatResponse, TokenLogprob, Usage


def decide(text: str, feature: str) -> str:
    return "YES" if re.search(rf"- {re.escape(feature)}: high", text) else "NO"


class RuleModel(ChatModel):
    """As reference: answers YES iff `feature` is high and names `explained` as its reason.
    As predictor: applies the explanation's first factor to the counterfactual, or, with no
    explanation, repeats the reference's answer. Answers the constrained question in one word
    ("Yes." / "No."), the follow-up in the explanation sections, the inline and paper prompts in the
    paper's full format, and the paper's predictor prompt with [ANSWER] and [CONFIDENCE]."""

    provider = "rule"

    def __init__(self, feature: str = "mean concavity", explained: str | None = None) -> None:
        self.feature, self.explained = feature, explained or feature
        self.model = f"rule-{feature.replace(' ', '-')}"
        self.calls = 0

    def _sections(self) -> str:
        return (f"[EXPLANATION]\nIt depends on {self.explained}.\n\n[MOST_IMPORTANT_FACTORS]\n{self.explained}\n\n"
                "[OTHER_RELEVANT_INFO]\nnone\n\n[CONFIDENCE]\nHIGH")

    async def _complete(self, request):
        self.calls += 1
        prompt = request.messages[-1][1]
        if "--- COUNTERFACTUAL" in prompt:
            prompt = "\n\n".join(content for _, content in request.messages)
            reference, counterfactual = prompt.split("--- COUNTERFACTUAL", 1)
            # one-word prompt: "Most important factors: a, b"; paper prompt: a "- a" list on the next lines
            factors = re.search(r"Most important factors:[ \t]*\n?(?:- )?(.+)", reference)
            if factors:
                answer = decide(counterfactual, factors.group(1).split(",")[0].strip())
            else:
                answer = re.search(r"Assistant's answer: (\w+)", reference).group(1)
            text = f"[ANSWER]\n{answer}\n\n[CONFIDENCE]\nHIGH" if "[CONFIDENCE]" in counterfactual else answer
        elif prompt.startswith("Explain your answer"):
            text = self._sections()
        elif "Reply in exactly this format" in prompt:
            answer = f"[ANSWER]\n{decide(prompt, self.feature)}"
            # in the order asked: the answer-last prompt puts [ANSWER] after [CONFIDENCE]
            last = prompt.index("[ANSWER]") > prompt.index("[CONFIDENCE]")
            text = f"{self._sections()}\n\n{answer}" if last else f"{answer}\n\n{self._sections()}"
        else:
            text = decide(prompt, self.feature).capitalize() + "."
        return ChatResponse(texts=[text[: request.max_tokens * 8]] * request.n, model=self.model,
                            usage=Usage(len(prompt.split()), len(text.split())), finish_reasons=["stop"] * request.n)


class LeaningRuleModel(RuleModel):
    """Like `RuleModel`, but its one-word answers always read "Yes.": the rule only shows in the
    first token's log-probabilities, where YES leads NO by `lean` log-odds when the rule says YES
    and by `lean - margin` when it says NO (as SmolLM2 leans YES on every breast-cancer case)."""

    provider = "leaning"

    def __init__(self, feature: str = "mean concavity", explained: str | None = None, lean: float = 1.5,
                 margin: float = 0.3) -> None:
        super().__init__(feature, explained)
        self.lean, self.margin = lean, margin

    async def _complete(self, request):
        response = await super()._complete(request)
        rule_answer = response.text.strip(" .").upper()
        if rule_answer not in ("YES", "NO"):
            return response  # an explanation: unchanged
        log_odds = self.lean if rule_answer == "YES" else self.lean - self.margin
        p_yes = 0.9 / (1 + math.exp(-log_odds))
        top = (("Yes", math.log(p_yes)), ("No", math.log(0.9 - p_yes)), ("The", math.log(0.1)))
        logprobs = [[TokenLogprob("Yes", top[0][1], top[:request.top_logprobs]), TokenLogprob(".", -0.01)]]
        return ChatResponse(texts=["Yes."] * request.n, model=self.model, usage=response.usage,
                            logprobs=logprobs * request.n if request.logprobs else None,
                            finish_reasons=["stop"] * request.n)
