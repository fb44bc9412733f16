"""Learning-rate schedules as functions of the step t (exercise lr_schedules).

t counts optimizer steps from 0: the rate to use for step t is what a torch
scheduler holds after t calls of scheduler.step().
"""

import math


def cosine_annealing(t, base_lr, t_max, eta_min=0.0):
    """Half a cosine from base_lr at t = 0 down to eta_min at t = t_max."""
    # BEGIN SOLUTION
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2
    # END SOLUTION


def warmup_cosine(t, base_lr, warmup_steps, total_steps, start_factor=1 / 3, eta_min=0.0):
    """Linear warm-up from start_factor * base_lr over warmup_steps, then cosine annealing
    to eta_min at total_steps."""
    # BEGIN SOLUTION
    if t < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * t / warmup_steps)
    return cosine_annealing(t - warmup_steps, base_lr, total_steps - warmup_steps, eta_min)
    # END SOLUTION
