"""Chain-of-thought prompting experiments: the same word problems, three prompt styles.

    python -m hubkit.agents.cot --model serve:MODEL_DIR --seeds 3 --out runs/cot
    python -m hubkit.agents.cot --model openai --base-url http://127.0.0.1:8000/v1 --model-name M

Styles (Wei et al. 2022, https://arxiv.org/abs/2201.11903; Kojima et al. 2022,
https://arxiv.org/abs/2205.11916):

* direct: "Answer with the number only.";
* zero_shot_cot: "Let's think step by step", then a last line "Answer: N";
* few_shot_cot: one worked example with its reasoning, then the question.

Problems are two-step arithmetic stories whose numbers are drawn per seed. The
answer is read from the last "Answer: N" line (else the last number). The
report gives accuracy per style with a 95% interval over seeds, and tokens per
answer: chain of thought buys accuracy with tokens, when the model can reason
at all. A model too small to reason scores the floor in every style; the
report says which model ran.
"""

from __future__ import annotations

import json
import random
import re
import statistics

from hubkit import runlog

STYLES = {
    "direct": "{q}\nAnswer with the number only.",
    "zero_shot_cot": "{q}\nLet's think step by step. End with a last line 'Answer: <number>'.",
    "few_shot_cot": ("Q: A baker makes 4 trays of 6 rolls and sells 9 rolls. How many rolls are "
                     "left?\nA: 4 trays of 6 rolls is 4 * 6 = 24 rolls. Selling 9 leaves "
                     "24 - 9 = 15.\nAnswer: 15\n\nQ: {q}\nA:"),
}


def problems(rng: random.Random, n: int) -> list[tuple[str, int]]:
    """`n` (question, answer) pairs: a product, then a difference."""
    out = []
    for _ in range(n):
        a, b = rng.randint(3, 12), rng.randint(3, 12)
        c = rng.randint(1, a * b - 1)
        out.append((f"A shop has {a} boxes with {b} apples in each box. It sells {c} apples. "
                    "How many apples are left?", a * b - c))
    return out


def extract(text: str) -> int | None:
    """The number on the last 'Answer:' line, else the last number in the text."""
    tagged = re.findall(r"Answer:\s*(-?\d+)", text)
    found = tagged or re.findall(r"-?\d+", text)
    return int(found[-1]) if found else None


def run_style(model, style: str, items: list[tuple[str, int]]) -> dict:
    """Accuracy and mean tokens of one prompt style over `items`."""
    right, tokens = 0, []
    for q, want in items:
        reply = model.chat([{"role": "user", "content": STYLES[style].format(q=q)}])
        right += extract(reply.content) == want
        tokens.append(reply.usage.completion_tokens)
    return {"accuracy": right / len(items), "completion_tokens": statistics.fmean(tokens)}


def _parser():
    from hubkit.agents.evaluate import add_model_arguments

    p = runlog.parser("python -m hubkit.agents.cot", __doc__, "cot")
    p.add_argument("--seeds", type=int, default=3, help="problem sets with fresh numbers")
    p.add_argument("--per-seed", type=int, default=10, help="problems per seed")
    add_model_arguments(p)
    return p


def main(argv: list[str] | None = None) -> int:
    import contextlib

    from hubkit.agents.evaluate import make_model, mean_ci

    args = _parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    base = args.seed_base if args.seed_base is not None else random.SystemRandom().randrange(10**6)
    per_style: dict[str, list[dict]] = {s: [] for s in STYLES}
    with contextlib.ExitStack() as stack, runlog.quiet_third_party(), \
            runlog.tracker(args, outputs) as track:
        model, _ = make_model(args, outputs, stack)
        with runlog.Progress(args.seeds * len(STYLES), "style", enabled=not args.quiet,
                             tracker=track) as bar:
            for seed in range(base, base + args.seeds):
                items = problems(random.Random(seed), args.per_seed)
                for style in STYLES:
                    per_style[style].append(run_style(model, style, items))
                    bar.update(accuracy=per_style[style][-1]["accuracy"])
    report = {"model": args.model, "seeds": list(range(base, base + args.seeds)),
              "per_seed": args.per_seed, "styles": {}}
    for style, runs in per_style.items():
        acc, half = mean_ci([r["accuracy"] for r in runs])
        report["styles"][style] = {"accuracy": acc, "ci95": half, "completion_tokens":
                                   statistics.fmean(r["completion_tokens"] for r in runs)}
        print(f"{style:>14}: accuracy {acc:.2f} ± {half:.2f}, "
              f"{report['styles'][style]['completion_tokens']:.0f} tokens an answer")
    outputs.path("report.json").write_text(json.dumps(report, indent=1) + "\n")
    outputs.report()
    return 0


if __name__ == "__main__":
    runlog.run_main(main)
