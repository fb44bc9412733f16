"""How the checker grades vector_rollout_cpp: parity with hubkit.envs.reference, then speed."""

from __future__ import annotations

from hubkit.check import CheckContext, CustomSpec
from hubkit.exercise_support import rollout_check as rc


def check(learner, ctx: CheckContext) -> None:
    seed = ctx.seed % (2**31)
    msg = rc.check_independence(learner, seed=seed)
    for task in rc.TASKS:
        msg = msg or rc.check_parity(learner, task, steps=120 if ctx.fast else 300, seed=seed)
    if msg:
        ctx.fail(msg)
    ctx.note("independent envs; Hopper and HalfCheetah match the reference to 1e-10")
    if not ctx.fast:  # speed is shown, never asserted: a busy machine must not fail a pass
        speed = rc.measure_speed(learner)
        ctx.note(f"{speed['env_steps_per_s']:.0f} env-steps/s on 16 HalfCheetah envs, "
                 f"{speed['threads']} threads: {speed['vs_reference']:.1f}x the Python reference "
                 "(your steps include the checker's call into your process)")


SPEC = CustomSpec(check=check)
