"""Self-play PPO on PettingZoo's two-player games: env adapter, masking, baselines."""

import numpy as np
import pytest
import torch

pytest.importorskip("pettingzoo")
pytest.importorskip("pygame", reason="PettingZoo's classic games import pygame")

from hubkit.rl import selfplay  # noqa: E402


@pytest.mark.parametrize("game", ["tictactoe", "connect_four"])
def test_the_wrapped_pettingzoo_games_pass_its_api_test(game):
    from pettingzoo.test import api_test

    api_test(selfplay.make_game(game), num_cycles=30)


def test_opponent_env_passes_gymnasium_check_env():
    from gymnasium.utils.env_checker import check_env

    check_env(selfplay.OpponentEnv("tictactoe"), skip_render_check=True)


def test_make_game_rejects_an_unknown_game_by_name():
    with pytest.raises(ValueError, match="game"):
        selfplay.make_game("chess")


def test_wins_finds_rows_columns_and_both_diagonals_only():
    for cells in ([(5, 0), (5, 1), (5, 2), (5, 3)], [(0, 6), (1, 6), (2, 6), (3, 6)],
                  [(2, 0), (3, 1), (4, 2), (5, 3)], [(2, 3), (3, 2), (4, 1), (5, 0)]):
        board = np.zeros((6, 7), bool)
        board[tuple(zip(*cells, strict=True))] = True
        assert selfplay.wins(board, 4), cells
        board[cells[0]] = False
        assert not selfplay.wins(board, 4), cells


def _tictactoe_obs(mine, theirs):
    planes = np.zeros((3, 3, 2), np.float32)
    for a in mine:
        planes[divmod(a, 3) + (0,)] = 1
    for a in theirs:
        planes[divmod(a, 3) + (1,)] = 1
    mask = 1 - planes.sum(-1).ravel()
    return np.concatenate([planes.ravel(), mask]).astype(np.float32)


def test_heuristic_takes_a_win_before_it_blocks_and_blocks_before_random():
    rng = np.random.default_rng(0)
    win_or_block = _tictactoe_obs(mine=[0, 1], theirs=[3, 4])
    assert selfplay.heuristic_player(win_or_block, 9, rng) == 2  # wins on the top row
    block = _tictactoe_obs(mine=[0, 8], theirs=[3, 4])
    assert selfplay.heuristic_player(block, 9, rng) == 5  # blocks the middle row


def test_masked_policy_never_picks_an_occupied_square():
    import gymnasium as gym

    torch.manual_seed(0)
    pi = selfplay.make_masked_policy(gym.spaces.Box(0, 1, (27,)), gym.spaces.Discrete(9))
    obs = torch.as_tensor(np.stack([_tictactoe_obs([0, 1, 5], [2, 4, 6])] * 500))
    actions, log_probs, _ = pi.act(obs)
    assert set(actions.tolist()) <= {3, 7, 8}
    assert torch.isfinite(log_probs).all()


def test_learner_gets_plus_one_for_a_win_and_minus_one_for_a_loss():
    always_first = lambda obs, n, rng: int(np.flatnonzero(obs[-n:])[0])  # noqa: E731
    results = selfplay.play(selfplay.heuristic_player, always_first, "tictactoe", 40, seed=0)
    assert results["win"] > 0.8 and results["loss"] == 0.0
    results = selfplay.play(always_first, selfplay.heuristic_player, "tictactoe", 40, seed=0)
    assert results["loss"] > 0.5


def test_set_opponents_gives_even_envs_the_newest_snapshot():
    cfg = selfplay.SelfPlayConfig(num_envs=4)
    envs = selfplay.make_selfplay_envs(cfg)
    newest = lambda obs, n, rng: 0  # noqa: E731
    selfplay.set_opponents(envs, [selfplay.random_player, newest], np.random.default_rng(0))
    games = envs.unwrapped.envs
    assert games[0].opponent is newest and games[2].opponent is newest
    assert {games[1].opponent, games[3].opponent} <= {selfplay.random_player, newest}


@pytest.mark.slow
def test_self_play_raises_the_win_rate_against_the_random_player():
    cfg = selfplay.SelfPlayConfig(generations=6, steps_per_generation=4096, eval_games=200)
    _, log = selfplay.train_selfplay(cfg)
    best_late = max(row["random_win"] for row in log[-3:])  # one evaluation is noisy
    assert best_late > log[0]["random_win"] + 0.1
