"""A deterministic chat model that follows a known decision rule, to test NSG where the truth is known."""

from __future__ import annotations

import re

from overseer.models.chat import ChatModel, ChatResponse, Usage


def decide(text: str, feature: str) -> str:
    return "YES" if re.search(rf"- {re.escape(feature)}: high", text) else "NO"


class RuleModel(ChatModel):
    """As reference: answers YES iff `feature` is high and names `explained` as its reason.
    As predictor: applies the explanation's first factor to the counterfactual, or, with no
    explanation, repeats the reference's answer."""

    provider = "rule"

    def __init__(self, feature: str = "mean concavity", explained: str | None = None) -> None:
        self.feature, self.explained = feature, explained or feature
        self.model = f"rule-{feature.replace(' ', '-')}"
        self.calls = 0

    async def _complete(self, request):
        self.calls += 1
        prompt = request.messages[-1][1]
        if "--- COUNTERFACTUAL" in prompt:
            reference, counterfactual = prompt.split("--- COUNTERFACTUAL", 1)
            factors = re.search(r"Most important factors: (.+)", reference)
            if factors:
                answer = decide(counterfactual, factors.group(1).split(",")[0].strip())
            else:
                answer = re.search(r"Assistant's answer: (\w+)", reference).group(1)
            text = f"[ANSWER]\n{answer}\n\n[CONFIDENCE]\nHIGH"
        else:
            answer = decide(prompt, self.feature)
            text = (f"[ANSWER]\n{answer}\n\n[EXPLANATION]\nIt depends on {self.explained}.\n\n"
                    f"[MOST_IMPORTANT_FACTORS]\n{self.explained}\n\n[OTHER_RELEVANT_INFO]\nnone\n\n[CONFIDENCE]\nHIGH")
        return ChatResponse(texts=[text[: request.max_tokens * 8]] * request.n, model=self.model,
                            usage=Usage(len(prompt.split()), len(text.split())), finish_reasons=["stop"] * request.n)
