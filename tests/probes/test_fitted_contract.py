"""The fitted-object contract (overseer.fitted), checked on EVERY registered steering method, probe and detector.

A class registered without a recipe below fails `test_every_registered_class_has_a_recipe`: add one, so the
contract is checked for it too.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from overseer import fitted
from overseer.errors import NotFittedError
from overseer.fitted import FAMILIES, Fitted
from overseer.models.chat.base import ChatModel, ChatResponse
from overseer.probes import DETECTORS, PROBES
from overseer.steering import METHODS, load_method

D = 8


class ScriptedLiar(ChatModel):
    """Answers "no" to "is it accurate?" after a lie, "yes" otherwise; "not sure" to anything else."""

    provider, model, supports_logprobs = "scripted", "liar", False

    async def _complete(self, request):
        messages = request.message_dicts()
        lied = "LIE" in messages[-2]["content"]
        return ChatResponse([("no" if lied else "yes") if "accurate" in messages[-1]["content"] else "not sure"],
                            self.model)


def _data(seed=0, n=60):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(size=(n, D)) + np.outer(y, np.ones(D))
    return x, y


def _transcripts(n=12):
    return ([[{"role": "user", "content": f"Q{i}?"}, {"role": "assistant", "content": f"A{i}{' LIE' if i % 2 else ''}"}]
             for i in range(n)], np.arange(n) % 2)


QUESTIONS = ["Is the previous statement accurate? Answer yes or no.", "Is water wet? Answer yes or no."]


def _make(family: str, name: str) -> Fitted:
    if family == "steering":
        return METHODS.get(name)(layer=1, **({"n_components": 256} if "odesteer" in name else {}))
    if family == "probe":
        return PROBES.get(name)()
    recipes = {"deception": lambda: DETECTORS.get(name)(layer=2), "follow_up": lambda: DETECTORS.get(name)(QUESTIONS)}
    return recipes[name]()


def _fit(obj: Fitted):
    x, y = _data()
    if obj.family == "steering":
        t = torch.tensor(x, dtype=torch.float32)
        return obj.fit(t[y == 1], t[y == 0])
    if obj.family == "probe":
        return obj.fit(x, y)
    if obj.name == "deception":
        return obj.fit(x, y)
    transcripts, labels = _transcripts()
    return obj.fit(ScriptedLiar(), transcripts, labels)


def _outputs(obj: Fitted) -> list[np.ndarray]:
    x, _ = _data(seed=1, n=10)
    if obj.family == "steering":
        return [obj.apply(torch.tensor(x, dtype=torch.float32)).numpy()]
    if obj.family == "probe" or obj.name == "deception":
        return [obj.score(x)]
    return [obj.score(ScriptedLiar(), _transcripts()[0])]


CLASSES = [(family, name) for family in FAMILIES for name in FAMILIES.get(family).registry]


def test_every_registered_class_has_a_recipe():
    assert {f for f, _ in CLASSES} == {"steering", "probe", "detector"}
    for family, name in CLASSES:
        obj = _make(family, name)
        assert obj.family == family and obj.name == name, "registry key and class attributes disagree"


@pytest.mark.parametrize("family,name", CLASSES)
def test_fit_returns_self_and_learns_only_underscored_attributes(family, name):
    obj = _make(family, name)
    assert obj.fitted_attributes() == {} and not obj.is_fitted, "__init__ must not set learned attributes"
    before = set(vars(obj))
    assert _fit(obj) is obj
    learned = [k for k in set(vars(obj)) - before if not k.startswith("_")]
    assert learned and all(k.endswith("_") for k in learned), learned
    assert obj.get_params() == _make(family, name).get_params(), "fit must not change hyper-parameters"


@pytest.mark.parametrize("family,name", CLASSES)
def test_using_or_saving_an_unfitted_object_raises_not_fitted(family, name, tmp_path):
    obj = _make(family, name)
    with pytest.raises(NotFittedError, match="not fitted"):
        _outputs(obj)
    with pytest.raises(NotFittedError, match="not fitted"):
        obj.save(tmp_path)


@pytest.mark.parametrize("family,name", CLASSES)
def test_save_load_round_trip_gives_identical_outputs(family, name, tmp_path):
    obj = _fit(_make(family, name))
    obj.save(tmp_path / name)
    assert sorted(p.name for p in (tmp_path / name).iterdir()) == [f"{family}.json", f"{family}.safetensors"]
    for loaded in (type(obj).load(tmp_path / name), fitted.load(tmp_path / name)):
        assert type(loaded) is type(obj)
        assert loaded.get_params() == obj.get_params()
        for a, b in zip(_outputs(loaded), _outputs(obj), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("family,name", CLASSES)
def test_params_rebuild_an_equal_unfitted_object(family, name):
    obj = _fit(_make(family, name))
    clone = type(obj)(**obj.get_params())
    assert clone.get_params() == obj.get_params() and not clone.is_fitted


def test_a_saved_steering_method_carries_its_layer_and_positions(tmp_path):
    method = _fit(METHODS.get("caa")(layer=[1, 2], positions="all"))
    loaded = load_method(method.save(tmp_path))
    assert loaded.layers == [1, 2] and loaded.positions == "all"


def test_loading_a_saved_class_as_another_is_a_clear_error(tmp_path):
    _fit(_make("steering", "caa")).save(tmp_path)
    with pytest.raises(Exception, match="not a RepE"):
        METHODS.get("repe").load(tmp_path)


def test_generic_load_reads_directories_saved_before_the_contract(tmp_path):
    vector = torch.arange(D, dtype=torch.float32)
    (tmp_path / "steer").mkdir()
    (tmp_path / "steer" / "steering.json").write_text(json.dumps({"method": "caa", "strength": 2.0, "d_model": D}))
    (tmp_path / "steer" / "fit.json").write_text(json.dumps({"model": "organism", "layer": 1}))
    save_file({"vector": vector}, str(tmp_path / "steer" / "steering.safetensors"))
    method = fitted.load(tmp_path / "steer")
    assert method.layer == 1 and method.model_ == "organism" and method.strength == 2.0
    torch.testing.assert_close(method.apply(torch.zeros(1, D)), 2.0 * vector[None])

    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "probe.json").write_text(json.dumps({"probe": "logistic", "d_model": D, "positive": "x",
                                                               "c": 0.5, "max_iter": 100}))
    save_file({"weight": torch.ones(D, dtype=torch.float64), "bias": torch.tensor([0.5], dtype=torch.float64)},
              str(tmp_path / "probe" / "probe.safetensors"))
    probe = fitted.load(tmp_path / "probe")
    assert probe.c == 0.5 and probe.positive == "x"
    np.testing.assert_allclose(probe.score(np.ones((1, D))), [D + 0.5])
