"""MuJoCo tasks as vector envs: a Python reference and a C++ thread-pool version.

Importing this package (not `import hubkit`) registers Gymnasium ids
"hubkit/HalfCheetah-v5", "hubkit/Hopper-v5", "hubkit/Walker2d-v5",
"hubkit/Ant-v5" and "hubkit/Reacher-v5":

    >>> import gymnasium as gym, hubkit.envs
    >>> env = gym.make("hubkit/Reacher-v5")
    >>> envs = gym.make_vec("hubkit/HalfCheetah-v5", num_envs=2,
    ...                     vectorization_mode="vector_entry_point", num_threads=2)

Without importing it first, Gymnasium's "module:id" form imports it for you:
`gym.make_vec("hubkit.envs:hubkit/HalfCheetah-v5", num_envs=16, ...)`.
"""

from hubkit.envs.reference import TASK_IDS, TASKS, ReferenceVectorEnv, TaskSpec, task_spec


def register_envs() -> None:
    """Register the hubkit/<Task>-v5 ids with Gymnasium (idempotent)."""
    import gymnasium as gym

    for name in TASK_IDS:
        env_id = f"hubkit/{name}-v5"
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="hubkit.envs.vector:MujocoEnv",
            vector_entry_point="hubkit.envs.vector:MujocoVectorEnv",
            max_episode_steps=TASKS[name].max_episode_steps,
            kwargs={"task": name},
        )


register_envs()

__all__ = ["TASKS", "TASK_IDS", "ReferenceVectorEnv", "TaskSpec", "register_envs", "task_spec"]
