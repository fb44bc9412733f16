"""hubkit.rl.policies: log-probs of the action taken, state-independent std, tanh correction."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from hubkit.rl.policies import make_policy

BOX = gym.spaces.Box(-1.0, 1.0, (3,))


def test_categorical_log_prob_is_log_softmax_of_the_action_taken(gen):
    pi = make_policy(BOX, gym.spaces.Discrete(4))
    obs = torch.randn(6, 3, generator=gen)
    action, log_prob, _ = pi.act(obs)
    want = torch.log_softmax(pi.actor(obs), -1).gather(1, action[:, None]).squeeze(1)
    torch.testing.assert_close(log_prob, want)
    other = (action + 1) % 4  # the log-prob of another action differs
    assert not torch.allclose(pi.distribution(obs).log_prob(other), want)


def test_gaussian_std_is_state_independent_and_log_prob_is_the_normal_density(gen):
    pi = make_policy(BOX, gym.spaces.Box(-2.0, 2.0, (2,)), init_log_std=-0.5)
    obs = torch.randn(5, 3, generator=gen)
    dist = pi.distribution(obs)
    assert torch.allclose(dist.stddev, torch.full((5, 2), math.exp(-0.5)))
    a = torch.randn(5, 2, generator=gen)
    mean, std = pi.actor(obs), math.exp(-0.5)
    want = (-0.5 * ((a - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)).sum(1)
    torch.testing.assert_close(dist.log_prob(a), want)


def test_tanh_gaussian_log_prob_has_the_change_of_variables_correction(gen):
    pi = make_policy(BOX, gym.spaces.Box(-1.0, 1.0, (2,)), tanh_squash=True)
    obs = torch.randn(7, 3, generator=gen)
    u = 3.0 * torch.randn(7, 2, generator=gen)
    mean, std = pi.actor(obs), pi.head.log_std.exp()
    base = torch.distributions.Normal(mean, std)
    squashed = torch.distributions.TransformedDistribution(
        base, torch.distributions.TanhTransform(cache_size=1))
    a = squashed.transforms[0](u)  # tanh(u), cached so log_prob inverts it exactly
    torch.testing.assert_close(pi.distribution(obs).log_prob(u), squashed.log_prob(a).sum(1))


def test_tanh_gaussian_env_actions_stay_inside_the_bounds(gen):
    space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 5.0], np.float32))
    pi = make_policy(BOX, space, tanh_squash=True, init_log_std=2.0)
    action, _, _ = pi.act(torch.randn(100, 3, generator=gen))
    env_action = pi.env_action(action)
    assert env_action.shape == (100, 2)
    assert (env_action >= space.low).all() and (env_action <= space.high).all()


def test_deterministic_act_takes_the_mode(gen):
    pi = make_policy(BOX, gym.spaces.Discrete(3))
    obs = torch.randn(4, 3, generator=gen)
    action, _, _ = pi.act(obs, deterministic=True)
    assert torch.equal(action, pi.actor(obs).argmax(-1))


def test_value_has_one_number_per_row(gen):
    pi = make_policy(BOX, gym.spaces.Discrete(2), hidden=(8,))
    assert pi.value(torch.randn(5, 3, generator=gen)).shape == (5,)


def test_unsupported_action_space_names_the_argument():
    with pytest.raises(ValueError, match="act_space: expected Discrete or a 1-D Box"):
        make_policy(BOX, gym.spaces.MultiBinary(3))
