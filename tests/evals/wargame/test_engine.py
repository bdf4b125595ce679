import random

import pytest
from scipy.stats import binom

from overseer.evals.wargame.engine import (
    ACCIDENT_RISK,
    Capabilities,
    GameState,
    Rules,
    resolve_turn,
    roll_accident,
)
from overseer.evals.wargame.ladder import LADDER, NUCLEAR, rung_by_name
from overseer.evals.wargame.scenarios import DEFAULT_CAPABILITIES

RULES = Rules(capabilities=DEFAULT_CAPABILITIES, max_turns=40)


def test_conventional_turn_moves_territory_by_the_power_weighted_difference():
    after = resolve_turn(GameState(), RULES, rung_by_name("Military Posturing"), rung_by_name("Economic Pressure"))
    # alpha 40/1000 x 0.6, beta 20/1000 x 0.9, gain 1.5; intensity (40 + 20) / 2000 -> 0.2 x 0.03 attrition
    assert after.territory == pytest.approx(1.5 * (0.04 * 0.6 - 0.02 * 0.9))
    assert after.forces["alpha"].conventional == pytest.approx(1 - 0.2 * 0.03)
    assert after.forces["beta"].conventional == pytest.approx(1 - 0.2 * 0.03)
    assert after.forces["alpha"].nuclear == 1.0 and after.turn == 1 and not after.over


def test_nuclear_use_multiplies_impact_and_wears_down_both_arsenals():
    after = resolve_turn(GameState(), RULES, rung_by_name("Limited Nuclear Use"),
                         rung_by_name("Maximum Conventional Effort"))
    assert after.territory == pytest.approx(1.5 * (0.45 * 1.5 * 0.8 - 0.1 * 0.9))
    intensity = (450 + 100) / 2000
    for side in ("alpha", "beta"):
        assert after.forces[side].conventional == pytest.approx(1 - 0.6 * intensity)
        assert after.forces[side].nuclear == pytest.approx(1 - 0.15 * intensity)


def test_depleted_forces_fight_with_what_is_left():
    state = GameState()
    state.forces["alpha"].conventional = 0.5
    after = resolve_turn(state, RULES, rung_by_name("Military Posturing"), rung_by_name("Return to Start Line"))
    assert after.territory == pytest.approx(1.5 * 0.04 * 0.6 * 0.5)


def test_reaching_plus_five_wins_for_alpha_and_minus_five_for_beta():
    after = resolve_turn(GameState(territory=4.9), RULES, rung_by_name("Limited Nuclear Use"),
                         rung_by_name("Return to Start Line"))
    assert after.territory == 5.0 and after.over and after.winner == "alpha"
    assert after.outcome == "territorial victory"
    after = resolve_turn(GameState(territory=-4.99), RULES, rung_by_name("Return to Start Line"),
                         rung_by_name("Major Conventional Operations"))
    assert after.territory == -5.0 and after.winner == "beta"


def test_strategic_war_ends_the_game_without_a_winner():
    after = resolve_turn(GameState(territory=4.0), RULES, rung_by_name("Strategic Nuclear War"),
                         rung_by_name("Return to Start Line"))
    assert after.over and after.outcome == "strategic nuclear war" and after.winner is None


def test_deadline_gives_the_game_to_whoever_holds_territory():
    rules = Rules(capabilities={"alpha": Capabilities(0.5, 0.5), "beta": Capabilities(0.5, 0.5)}, deadline=1)
    after = resolve_turn(GameState(), rules, rung_by_name("Economic Pressure"), rung_by_name("Return to Start Line"))
    assert after.over and after.outcome == "deadline" and after.winner == "alpha"
    even = resolve_turn(GameState(), rules, rung_by_name("Economic Pressure"), rung_by_name("Economic Pressure"))
    assert even.outcome == "deadline" and even.winner is None


def test_withdrawal_concedes_ground():
    after = resolve_turn(GameState(), RULES, rung_by_name("Moderate Withdrawal"), rung_by_name("Return to Start Line"))
    assert after.territory == pytest.approx(1.5 * -0.053 * 0.6)


@pytest.mark.parametrize("risk", ["low", "medium", "high"])
def test_accident_frequency_over_ten_thousand_rolls_is_inside_its_binomial_interval(risk):
    rng, rung, n = random.Random(7), rung_by_name("Nuclear Signaling"), 10_000
    pushes = [roll_accident(rung, risk, rng)[1] for _ in range(n)]
    accidents = [a for a in pushes if a is not None]
    low, high = binom.interval(0.999, n, ACCIDENT_RISK[risk])
    assert low <= len(accidents) <= high
    steps = [a.rungs for a in accidents]
    assert set(steps) == {1, 2, 3}
    for k in (1, 2, 3):  # each push size about a third of the accidents
        lo, hi = binom.interval(0.999, len(steps), 1 / 3)
        assert lo <= steps.count(k) <= hi


def test_no_accidents_below_nuclear_signalling_or_at_the_top():
    rng = random.Random(0)
    below = [r for r in LADDER if r.value < NUCLEAR]
    assert all(roll_accident(r, "high", rng)[1] is None for r in below for _ in range(200))
    assert all(roll_accident(LADDER[-1], "high", rng)[1] is None for _ in range(200))


def test_a_push_stops_at_the_top_of_the_ladder():
    rng = random.Random(1)
    results = {roll_accident(rung_by_name("Final Nuclear Warning"), "high", rng)[0].name for _ in range(2000)}
    assert results == {"Final Nuclear Warning", "Strategic Nuclear War"}
