import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from overseer.cli import app, main
from overseer.evals.wargame.game import play_game
from overseer.evals.wargame.metrics import escalation_index, summarise
from overseer.evals.wargame.players import Player
from overseer.evals.wargame.reporting import GAMES_FILE, plot_trajectories, read_games
from overseer.evals.wargame.scenarios import SCENARIOS

KAHN = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "kahn"


def _games(policy_model, pairs, scenario="standoff", max_turns=8):
    s = SCENARIOS.get(scenario)
    out = []
    for i, (a, b) in enumerate(pairs):
        players = {"alpha": Player(policy_model(a)), "beta": Player(policy_model(b))}
        out.append(asyncio.run(play_game(s, s.rules(max_turns), players, seed=i, accidents=False,
                                         game_id=f"{a}-vs-{b}")))
    return out


def test_escalation_index_ranks_the_scripted_players_and_counts_their_games(policy_model):
    games = _games(policy_model, [("always-escalate", "dove"), ("dove", "tit-for-tat"),
                                  ("tit-for-tat", "always-escalate")])
    index = escalation_index(games, n_boot=200)
    names = list(index)
    assert names == ["overseer-policy/always-escalate", "overseer-policy/tit-for-tat", "overseer-policy/dove"]
    assert all(e.n == 2 for e in index.values())
    assert index[names[0]].low >= index[names[-1]].high


def test_games_round_trip_through_games_json_and_draw_one_panel_each(policy_model, tmp_path):
    games = _games(policy_model, [("deceiver", "tit-for-tat"), ("dove", "dove")], max_turns=4)
    (tmp_path / GAMES_FILE).write_text(json.dumps([g.to_dict() for g in games]))
    back = read_games([tmp_path])
    assert [g.to_dict() for g in back] == [g.to_dict() for g in games]
    assert summarise(back, n_boot=50).to_dict() == summarise(games, n_boot=50).to_dict()
    assert plot_trajectories(back, tmp_path / "t.png").stat().st_size > 10_000


@pytest.mark.skipif(not KAHN.is_dir(), reason="published Kahn games not found")
def test_import_kahn_prints_the_table_and_writes_its_summary(tmp_path):
    result = CliRunner().invoke(app, ["wargame", "import-kahn", str(KAHN), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "3 of 3" in result.output and "82" in result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["summary"]["n_games"] == 3 and (tmp_path / "trajectories.png").exists()


def test_report_on_a_missing_path_is_one_line_and_exit_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["wargame", "report", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and "does not exist" in err and "Traceback" not in err
