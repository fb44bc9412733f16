"""Vector envs for policy-gradient training: episode statistics, normalization, clipping.

Gymnasium's own vector wrappers do the work (they know NEXT_STEP autoreset:
the reset row after a done does not update the return statistics):

* `RecordEpisodeStatistics` (always, innermost: returns in the env's own units),
* `ClipAction` for Box actions (a Gaussian sample can leave the bounds),
* `NormalizeObservation` then a clip to [-clip, clip] (optional),
* `NormalizeReward` (divides by the std of the discounted return) then a clip (optional).

`make_envs` builds the vector env from an id: hubkit's MuJoCo tasks
("hubkit/Hopper-v5") through their C++ vector entry point, anything else as a
`SyncVectorEnv`. `freeze_obs_normalization` gives an evaluation env the
training env's observation statistics, frozen.

Example:
    >>> envs = make_envs("CartPole-v1", num_envs=2, norm_obs=True)
    >>> obs, _ = envs.reset(seed=0)
    >>> obs.shape
    (2, 4)
"""

from __future__ import annotations

import numpy as np


def make_envs(env_id: str, num_envs: int, *, norm_obs: bool = False, norm_reward: bool = False,
              gamma: float = 0.99, clip: float = 10.0, num_threads: int = 1, **kwargs):
    """A NEXT_STEP vector env of `env_id`, wrapped by `wrap`.

    Args:
        env_id: a Gymnasium id; "hubkit/<Task>-v5" runs on hubkit's C++ vector env.
        num_envs: N.
        norm_obs, norm_reward, gamma, clip: see `wrap`.
        num_threads: threads of hubkit's C++ vector env (ignored for other ids).
        **kwargs: passed to gymnasium.make_vec (env keyword arguments).
    """
    import gymnasium as gym

    if env_id.startswith("hubkit/"):
        import hubkit.envs  # noqa: F401  (registers the ids)

        envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point",
                            num_threads=num_threads, **kwargs)
    else:
        envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)
    return wrap(envs, norm_obs=norm_obs, norm_reward=norm_reward, gamma=gamma, clip=clip)


def wrap(envs, *, norm_obs: bool = False, norm_reward: bool = False, gamma: float = 0.99,
         clip: float = 10.0):
    """Episode statistics, action clipping (Box), optional obs and reward normalization.

    Args:
        envs: a gymnasium.vector.VectorEnv.
        norm_obs: normalize observations by running mean and std, then clip to [-clip, clip].
        norm_reward: divide rewards by the running std of the discounted return
            (with `gamma`), then clip to [-clip, clip].
    """
    import gymnasium as gym
    from gymnasium.wrappers import vector as vw

    envs = vw.RecordEpisodeStatistics(envs)
    if isinstance(envs.single_action_space, gym.spaces.Box):
        envs = vw.ClipAction(envs)
    if norm_obs:
        envs = vw.NormalizeObservation(envs)
        envs = vw.TransformObservation(envs, lambda o: np.clip(o, -clip, clip),
                                       envs.observation_space)
    if norm_reward:
        envs = vw.NormalizeReward(envs, gamma=gamma)
        envs = vw.ClipReward(envs, -clip, clip)
    return envs


def find_wrapper(envs, kind: type):
    """The first wrapper of type `kind` in the chain around `envs`, or None."""
    while envs is not None:
        if isinstance(envs, kind):
            return envs
        envs = getattr(envs, "env", None)
    return None


def action_space(envs):
    """The single-env action space the policy should see: the bounds before `ClipAction`.

    Subtle: gymnasium's ClipAction widens its action space to (-inf, inf) (it
    # accepts anything and clips), so a tanh-squashed policy would lose its bounds.
    """
    from gymnasium.wrappers.vector import ClipAction

    clip = find_wrapper(envs, ClipAction)
    return envs.single_action_space if clip is None else clip.env.single_action_space


def freeze_obs_normalization(eval_envs, train_envs) -> None:
    """Copy `train_envs`' observation statistics into `eval_envs` and stop them updating."""
    import copy

    from gymnasium.wrappers.vector import NormalizeObservation

    src = find_wrapper(train_envs, NormalizeObservation)
    dst = find_wrapper(eval_envs, NormalizeObservation)
    if src is None or dst is None:
        if src is not dst:
            raise ValueError("eval_envs: observation normalization must match train_envs")
        return
    dst.obs_rms = copy.deepcopy(src.obs_rms)
    dst.update_running_mean = False


def obs_statistics(envs) -> dict | None:
    """{"mean", "var", "count"} of the observation normalizer (JSON-ready), or None."""
    from gymnasium.wrappers.vector import NormalizeObservation

    w = find_wrapper(envs, NormalizeObservation)
    if w is None:
        return None
    rms = w.obs_rms
    return {"mean": rms.mean.tolist(), "var": rms.var.tolist(), "count": float(rms.count)}
