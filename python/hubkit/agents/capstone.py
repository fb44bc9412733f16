"""Capstone (8.3): a research assistant over a folder of PDFs, and a code assistant.

    python -m hubkit.agents.capstone --demo --out runs/capstone     # sample papers, question set
    python -m hubkit.agents.capstone --papers my-papers/ --question "Which dataset did X use?"
    python -m hubkit.agents.capstone --demo --model serve:MODEL_DIR # a local model, hubkit serve

The research assistant (design and evaluation: hubkit/agents/data/capstone.md)
reads every PDF (pypdf), Markdown and text file under a folder,
splits them into chunks with ids ("paper.pdf#2"), indexes them, and answers
through a ReAct agent with three tools: `search` (cited passages),
`list_papers` and `read_paper` (a paper's opening, to summarize it). Each
answer is checked for faithfulness: every claim must cite a passage the agent
retrieved during the run, and the passage must support it.

`--demo` writes sample papers whose numbers are drawn from the seed, asks the
question set about them and reports accuracy, faithfulness and tokens.

The code assistant (`code_assistant`) asks a model for a program, runs the
given tests against it in the Python sandbox, and sends the failures back
until the tests pass or the rounds run out.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from hubkit import runlog
from hubkit.agents.rag import faithfulness
from hubkit.agents.react import SYSTEM, Agent
from hubkit.agents.retrieval import Hit, load_folder, make_index
from hubkit.agents.toolbox import search_tool
from hubkit.agents.tools import Tool

RESEARCH_SYSTEM = SYSTEM + (" You answer questions about a folder of papers. Search before "
                            "answering, and end every sentence of your answer with the id of the "
                            "passage it comes from, in square brackets, e.g. [paper.pdf#2].")


# ------------------------------------------------------------------ PDFs without a PDF library

def _pdf_string(line: str) -> str:
    return "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def write_pdf(path: str | Path, pages: list[str], width: int = 85) -> Path:
    """Write a minimal PDF (Helvetica, one text block a page) that pypdf can read back."""
    import textwrap

    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for text in pages:
        lines = [w for para in text.split("\n") for w in (textwrap.wrap(para, width) or [""])]
        body = "BT /F1 11 Tf 14 TL 60 740 Td " + " T* ".join(
            f"{_pdf_string(line)} Tj" for line in lines) + " ET"
        kids.append(len(objects) + 1)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                       f"<< /Font << /F1 3 0 R >> >> /Contents {len(objects) + 2} 0 R >>")
        objects.append(f"<< /Length {len(body.encode('latin-1'))} >>\nstream\n{body}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] " \
                 f"/Count {len(kids)} >>"
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n" \
        .encode()
    Path(path).write_bytes(out)
    return Path(path)


METHODS = ("sparse routing", "gated recurrence", "contrastive pretraining", "low-rank adapters",
           "curriculum sampling", "mixture of experts")
DATASETS = ("CIFAR-10", "SST-2", "ImageNet", "MNIST", "WikiText-103", "SQuAD")


def sample_papers(folder: str | Path, seed: int = 0, n: int = 3) -> list[dict]:
    """Write `n` short PDF papers with numbers drawn from `seed`; returns the question set."""
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    questions = []
    for i, (method, data) in enumerate(zip(rng.sample(METHODS, n), rng.sample(DATASETS, n),
                                                     strict=True)):
        acc, epochs = round(rng.uniform(60, 99), 1), rng.randint(3, 90)
        name = f"paper{i + 1}.pdf"
        write_pdf(folder / name, [
            f"A study of {method}\n\nWe study {method} for learning from few labels. The idea "
            f"is simple and we describe it in full.",
            f"Results\n\nThe {method} method reached {acc} percent accuracy on {data}. "
            f"Training the {method} model took {epochs} epochs on one machine.",
        ])
        questions += [{"question": f"What accuracy did the {method} method reach on {data}?",
                       "answer": str(acc), "source": name},
                      {"question": f"How many epochs did training the {method} model take?",
                       "answer": str(epochs), "source": name}]
    return questions


# ------------------------------------------------------------------ research assistant

class ResearchAssistant:
    """Search, summarize and answer with citations over a folder (module docstring).

    Args:
        model: any hubkit chat model.
        folder: the papers (PDF, Markdown, text).
        k: passages per search.
        max_steps: model calls per question.
        index: "tfidf" or "embedding" (MiniLM via hubkit.search; finds paraphrases).
    """

    def __init__(self, model, folder: str | Path, k: int = 3, max_steps: int = 6,
                 trace=None, index: str = "tfidf") -> None:
        self.model, self.k = model, k
        self.chunks = load_folder(folder, max_words=80)
        self.by_id = {c.id: c for c in self.chunks}
        self.index = make_index(index)
        self.index.add(self.chunks)
        tools = [search_tool(self.index, k), Tool.from_function(self.list_papers),
                 Tool.from_function(self.read_paper, untrusted=True)]
        self.agent = Agent(model, tools, system=RESEARCH_SYSTEM, max_steps=max_steps, trace=trace)

    def list_papers(self) -> str:
        """List the papers in the folder."""
        return "\n".join(sorted({c.source for c in self.chunks}))

    def read_paper(self, name: str) -> str:
        """The opening passages of one paper (to summarize it), with their ids.

        Args:
            name: the paper's file name, as list_papers shows it.
        """
        found = [c for c in self.chunks if c.source == name][:3]
        if not found:
            raise FileNotFoundError(f"no paper {name!r}; see list_papers")
        return "\n\n".join(f"[{c.id}] {c.text}" for c in found)

    def summarize(self, name: str) -> dict:
        """A cited summary of one paper from its opening passages, with its faithfulness."""
        from hubkit.agents.rag import rag_prompt

        hits = [Hit(c.id, c.text, c.source, 1.0) for c in self.chunks if c.source == name][:3]
        if not hits:
            raise FileNotFoundError(f"no paper {name!r}; see list_papers")
        reply = self.model.chat(rag_prompt(f"Summarize {name}: its topic and its results.", hits))
        return {"summary": reply.content, "faithfulness": faithfulness(reply.content, hits)}

    def ask(self, question: str) -> dict:
        """Answer with citations; faithfulness is checked against the passages retrieved."""
        run = self.agent.run(question)
        seen = {i for m in run.messages if m["role"] == "tool"
                for i in re.findall(r"\[([^\[\]\s]+#\d+)\]", str(m["content"]))}
        hits = [Hit(i, self.by_id[i].text, self.by_id[i].source, 1.0) for i in sorted(seen)
                if i in self.by_id]
        return {"answer": run.answer, "faithfulness": faithfulness(run.answer or "", hits),
                "steps": run.steps, "tokens": run.tokens, "stopped": run.stopped}


def evaluate_questions(assistant: ResearchAssistant, questions: list[dict]) -> dict:
    """Accuracy (the expected value appears), faithfulness and cost over a question set."""
    rows = []
    for q in questions:
        out = assistant.ask(q["question"])
        cited = re.findall(r"\[([^\]]+)#\d+\]", out["answer"] or "")
        rows.append({**q, "got": out["answer"], "correct": q["answer"] in (out["answer"] or ""),
                     "cites_source": q["source"] in cited,
                     "faithfulness": out["faithfulness"]["score"], "steps": out["steps"],
                     "tokens": out["tokens"]})
    n = len(rows) or 1
    return {"accuracy": sum(r["correct"] for r in rows) / n,
            "cites_source": sum(r["cites_source"] for r in rows) / n,
            "faithfulness": sum(r["faithfulness"] for r in rows) / n,
            "tokens": sum(r["tokens"] for r in rows) / n, "rows": rows}


# ------------------------------------------------------------------ code assistant

CODE_SYSTEM = ("Write the complete Python module asked for, in one ```python code block. When "
               "tests fail, read their output and send the whole corrected module.")


def extract_code(text: str) -> str:
    """The last ```python block of a reply (the whole text when there is none)."""
    blocks = re.findall(r"```(?:python)?\n(.*?)```", text, re.S)
    return blocks[-1] if blocks else text


def code_assistant(model, sandbox, task: str, tests: str, max_rounds: int = 4) -> dict:
    """Ask for `solution.py`, run `tests` (which import it) in the sandbox, feed failures back."""
    messages = [{"role": "system", "content": CODE_SYSTEM},
                {"role": "user", "content": f"{task}\nSave it as solution.py. These tests must "
                 f"pass:\n```python\n{tests}```"}]
    result = None
    for round_ in range(1, max_rounds + 1):
        reply = model.chat(messages)
        sandbox.write("solution.py", extract_code(reply.content))
        result = sandbox.run(tests)
        if result.returncode == 0 and not result.timed_out:
            return {"passed": True, "rounds": round_, "output": result.summary()}
        messages += [{"role": "assistant", "content": reply.content},
                     {"role": "user", "content": "The tests failed:\n" + result.summary()
                      + "\nSend the whole corrected module."}]
    return {"passed": False, "rounds": max_rounds, "output": result.summary() if result else ""}


# ------------------------------------------------------------------ command line

def _parser():
    from hubkit.agents.evaluate import add_model_arguments

    p = runlog.parser("python -m hubkit.agents.capstone", __doc__, "capstone")
    p.add_argument("--papers", type=Path, default=None, help="folder of PDFs/Markdown/text")
    p.add_argument("--question", action="append", default=[], help="a question (repeatable)")
    p.add_argument("--demo", action="store_true",
                   help="write sample papers under --out and evaluate the question set")
    p.add_argument("--seed", type=int, default=0, help="--demo: seed of the sample papers")
    p.add_argument("--k", type=int, default=3, help="passages per search")
    p.add_argument("--index", choices=("tfidf", "embedding"), default="tfidf",
                   help="retrieval: TF-IDF (default) or MiniLM embeddings (hubkit.search)")
    p.add_argument("--max-steps", type=int, default=6, help="model calls per question")
    add_model_arguments(p)
    return p


def main(argv: list[str] | None = None) -> int:
    import contextlib

    from hubkit.agents.evaluate import make_model
    from hubkit.agents.trace import Trace

    args = _parser().parse_args(argv)
    if not args.demo and (args.papers is None or not args.question):
        raise SystemExit("error: give --papers DIR and --question, or --demo")
    outputs = runlog.Outputs(args.out, args._run_name)
    with contextlib.ExitStack() as stack, runlog.quiet_third_party():
        model, _ = make_model(args, outputs, stack)
        folder = args.papers or outputs.folder() / "papers"
        questions = sample_papers(folder, args.seed) if args.demo else \
            [{"question": q, "answer": "", "source": ""} for q in args.question]
        trace = Trace(outputs.path("trace.jsonl"))
        assistant = ResearchAssistant(model, folder, args.k, args.max_steps, trace, args.index)
        report = evaluate_questions(assistant, questions)
    for r in report["rows"]:
        print(f"Q: {r['question']}\nA: {r['got']}\n   faithfulness {r['faithfulness']:.2f}")
    if args.demo:
        print(f"accuracy {report['accuracy']:.2f}, cites the right paper "
              f"{report['cites_source']:.2f}, faithfulness {report['faithfulness']:.2f}, "
              f"{report['tokens']:.0f} tokens a question (model: {args.model})")
    outputs.path("report.json").write_text(json.dumps(report, indent=1) + "\n")
    outputs.report()
    return 0


if __name__ == "__main__":
    runlog.run_main(main)
