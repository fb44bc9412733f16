"""Learning-rate schedules against torch.optim.lr_scheduler."""

import pytest
import torch

from hubkit.basics.reference import cosine_annealing, linear_warmup, step_lr, warmup_cosine


def torch_lrs(make_scheduler, steps, base_lr=0.1):
    """The learning rate an optimizer holds before each of `steps` optimizer steps."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_step_lr_matches_torch():
    expected = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 7, gamma=0.3), 40)
    assert [step_lr(t, 0.1, 7, 0.3) for t in range(40)] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("eta_min", [0.0, 0.01])
def test_cosine_annealing_matches_torch_over_one_and_a_half_periods(eta_min):
    sched = lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=25, eta_min=eta_min)  # noqa: E731
    expected = torch_lrs(sched, 60)
    ours = [cosine_annealing(t, 0.1, 25, eta_min) for t in range(60)]
    assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_linear_warmup_matches_torch_linear_lr():
    sched = lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=9)  # noqa: E731
    expected = torch_lrs(sched, 20)
    assert [linear_warmup(t, 0.1, 9, 0.2) for t in range(20)] == pytest.approx(expected, rel=1e-12)


def test_warmup_cosine_matches_torch_sequential_lr():
    def sched(o):
        warm = torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5)
        cos = torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30, eta_min=0.001)
        return torch.optim.lr_scheduler.SequentialLR(o, [warm, cos], milestones=[5])
    expected = torch_lrs(sched, 36)
    ours = [warmup_cosine(t, 0.1, 5, 35, start_factor=0.1, eta_min=0.001) for t in range(36)]
    assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_warmup_cosine_peaks_at_base_and_ends_at_eta_min():
    lrs = [warmup_cosine(t, 1.0, 4, 20, eta_min=0.05) for t in range(21)]
    assert max(lrs) == lrs[4] == 1.0
    assert lrs[-1] == pytest.approx(0.05)


def test_schedules_reject_negative_step():
    with pytest.raises(ValueError, match="^t:"):
        step_lr(-1, 0.1, 3)


def test_warmup_cosine_rejects_warmup_longer_than_run():
    with pytest.raises(ValueError, match="^warmup_steps:"):
        warmup_cosine(0, 0.1, 10, 10)
