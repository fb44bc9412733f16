"""A Hugging Face causal LM in process, as a hubkit chat model (the one `hubkit serve` serves).

The prompt comes from the tokenizer's own chat template when it has one (most
instruction-tuned models do; tools are passed to it). Otherwise, e.g. for a
GPT checkpoint trained by hubkit's language-model track or a base GPT-2, a
plain template is used, with the tool descriptions and `TOOL_FORMAT` in the
system turn:

    <|system|>
    You are ... Tools (JSON Schema): [...]  To call a tool, answer with ...
    <|user|>
    What is 6*7?
    <|assistant|>
    <tool_call>{"name": "calculator", "arguments": {"expression": "6*7"}}</tool_call>
    <|tool|>
    42
    <|assistant|>

Generation is a plain loop over the KV cache (greedy at temperature 0, else
sampling from a seeded generator), stopped by max_new_tokens, the EOS token or
a turn marker. Tool calls are parsed from the generated text
(`hubkit.agents.models.parse_tool_calls`). A prompt longer than the model's
context keeps its last tokens (and says so in `Reply.finish_reason`: "length").

`write_tiny_gpt2(folder)` writes a randomly initialised two-layer GPT-2 and a
byte-level tokenizer trained on a few sentences: for tests and demos that must
not download anything. It talks nonsense, quickly.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Iterator
from pathlib import Path

from hubkit.agents.models import TOOL_FORMAT, Reply, Usage, format_tool_calls, parse_tool_calls

TURN = "<|{}|>\n"
STOPS = ("<|user|>", "<|tool|>", "<|system|>", "<|assistant|>")


def render_plain(messages: list[dict], tools: list[dict] | None) -> str:
    """The plain template (module docstring), ending with the assistant's turn marker."""
    msgs = list(messages)
    if tools and msgs and msgs[0]["role"] == "system":
        msgs[0] = {**msgs[0], "content": _with_tools(str(msgs[0].get("content") or ""), tools)}
    elif tools:
        msgs.insert(0, {"role": "system", "content": _with_tools("", tools)})
    parts = []
    for m in msgs:
        text = str(m.get("content") or "")
        if m.get("tool_calls"):
            text += ("\n" if text else "") + format_tool_calls(_calls_of(m))
        parts.append(TURN.format(m["role"]) + text + "\n")
    return "".join(parts) + TURN.format("assistant")


def _with_tools(system: str, tools: list[dict]) -> str:
    return (system + "\n\n" if system else "") + "Tools (JSON Schema): " + json.dumps(tools) \
        + "\n" + TOOL_FORMAT


def _calls_of(message: dict):
    from hubkit.agents.models import _from_openai_call

    return [_from_openai_call(c.get("id", ""), c["function"]["name"], c["function"]["arguments"])
            for c in message["tool_calls"]]


class TransformersChatModel:
    """A local causal LM (a folder with config, weights and tokenizer) behind the chat protocol.

    Args:
        model_dir: a Hugging Face model folder (AutoModelForCausalLM + AutoTokenizer).
        max_new_tokens: default cap on generated tokens per call.
        temperature: 0 for greedy decoding.
        seed: seeds sampling (one generator for the model's life).
        device: "cpu", "cuda", ...
    """

    def __init__(self, model_dir: str | Path, max_new_tokens: int = 128, temperature: float = 0.0,
                 seed: int = 0, device: str = "cpu") -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = Path(model_dir).name
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = AutoModelForCausalLM.from_pretrained(str(model_dir)).to(device).eval()
        self.device, self.max_new_tokens, self.temperature = device, max_new_tokens, temperature
        self.gen = torch.Generator(device=device).manual_seed(seed)
        self.context = int(getattr(self.model.config, "max_position_embeddings", 0)
                           or getattr(self.model.config, "n_positions", 1024))
        self._forward_params = inspect.signature(self.model.forward).parameters
        self._lock = threading.Lock()  # one generation at a time (the server has threads)

    def prompt(self, messages: list[dict], tools: list[dict] | None = None) -> str:
        """The text the model continues: its chat template, or the plain one."""
        if getattr(self.tokenizer, "chat_template", None):
            wrapped = [{"type": "function", "function": t} for t in tools] if tools else None
            return self.tokenizer.apply_chat_template(messages, tools=wrapped, tokenize=False,
                                                      add_generation_prompt=True)
        return render_plain(messages, tools)

    def chat(self, messages: list[dict], tools: list[dict] | None = None, **options) -> Reply:
        *_, reply = self.stream(messages, tools, **options)
        return reply

    def stream(self, messages: list[dict], tools: list[dict] | None = None,
               **options) -> Iterator[str | Reply]:
        """Raw text pieces as they are generated, then the Reply with tool calls parsed."""
        from hubkit.agents.models import visible_stream

        state: dict = {}
        yield from visible_stream(self._pieces(messages, tools, options, state))
        content, calls = parse_tool_calls(state["text"])
        finish = "tool_calls" if calls else state["finish"]
        yield Reply(content, calls, Usage(state["prompt_tokens"], state["completion_tokens"]),
                    finish)

    def _pieces(self, messages, tools, options, state: dict) -> Iterator[str]:
        import torch

        max_new = int(options.get("max_tokens") or self.max_new_tokens)
        temperature = float(options.get("temperature", self.temperature) or 0.0)
        ids = self.tokenizer(self.prompt(messages, tools), return_tensors="pt").input_ids
        keep = max(1, self.context - max_new)
        state.update(prompt_tokens=ids.shape[1], completion_tokens=0, text="",
                     finish="length" if ids.shape[1] > keep else "stop")
        ids = ids[:, -keep:].to(self.device)  # (1, T)
        with self._lock, torch.no_grad():
            yield from self._generate(ids, max_new, temperature, state)

    def _forward(self, ids, past):
        """Logits of the next token (V,) and the updated KV cache."""
        # subtle: transformers 5 renamed `past_key_values` to `cache`; accept both.
        kw = "cache" if "cache" in self._forward_params else "past_key_values"
        out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1, **{kw: past})
        return out.logits[0, -1], getattr(out, kw)

    def _generate(self, ids, max_new: int, temperature: float, state: dict) -> Iterator[str]:
        import torch

        out: list[int] = []
        past, shown = None, ""
        for _ in range(max_new):
            logits, past = self._forward(ids, past)  # (V,)
            nxt = int(logits.argmax()) if temperature <= 0 else int(torch.multinomial(
                torch.softmax(logits.float() / temperature, -1), 1, generator=self.gen))
            if nxt == self.tokenizer.eos_token_id:
                break
            out.append(nxt)
            text = self.tokenizer.decode(out, skip_special_tokens=True)
            stop = min((text.find(s) for s in STOPS if s in text), default=-1)
            if stop >= 0:
                text = text[:stop]
            # subtle: a multi-byte character split across tokens decodes as U+FFFD
            # until its last byte arrives; hold it back rather than show garbage.
            if not text.endswith("\ufffd") and text.startswith(shown) and len(text) > len(shown):
                yield text[len(shown):]
                shown = text
            state.update(text=text, completion_tokens=len(out))
            if stop >= 0:
                break
            ids = torch.tensor([[nxt]], device=self.device)
        else:
            state["finish"] = "length"


def write_tiny_gpt2(folder: str | Path, seed: int = 0, n_embd: int = 32,
                    n_layer: int = 2, n_positions: int = 2048) -> Path:
    """Write a randomly initialised tiny GPT-2 and a byte-level BPE tokenizer (no download).

    For tests and demos: it produces nonsense, fast. Returns `folder`.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([TOOL_FORMAT, "<|user|> <|assistant|> the answer is 42"], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(fast), n_embd=n_embd, n_layer=n_layer, n_head=2,
                        n_positions=n_positions, eos_token_id=fast.eos_token_id,
                        bos_token_id=fast.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder
