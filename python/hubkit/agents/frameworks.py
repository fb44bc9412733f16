"""LangChain and LlamaIndex: tool adapters, a chat-model adapter, one RAG agent in both.

Optional extras (`pip install 'hubkit-learn[frameworks]'`), imported only here,
inside the functions that need them.

* `to_langchain(tool)`: a hubkit Tool as a LangChain `StructuredTool` (the same
  JSON Schema; hubkit's validation still runs before the function).
* `to_llamaindex(tool)`: a hubkit Tool as a LlamaIndex `FunctionTool` (its
  pydantic argument model built from the JSON Schema).
* `LangChainChatModel(chat_model)`: any LangChain chat model (ChatOpenAI,
  ChatOllama, a fake model in tests) behind hubkit's chat protocol, so a
  hubkit `Agent` can run on it; tools are bound with `bind_tools` when the
  model supports it.
* `HubkitLLM(model)`: a hubkit model as a LlamaIndex LLM.
* `rag_langchain(...)` / `rag_llamaindex(...)`: the same RAG agent (search tool
  -> sources with ids -> the model -> a cited answer) in each framework's own
  pieces: an LCEL chain in LangChain, a FunctionTool and an LLM in LlamaIndex.
"""

from __future__ import annotations

from collections.abc import Iterator

from hubkit.agents.models import Reply, ToolCall, Usage, stream_by_chat
from hubkit.agents.rag import RAG_SYSTEM
from hubkit.agents.tools import Tool

_PY = {"integer": int, "number": float, "string": str, "boolean": bool, "array": list,
       "object": dict}


def to_langchain(tool: Tool):
    """A LangChain StructuredTool that calls `tool` (validated) with the same schema."""
    from langchain_core.tools import StructuredTool

    return StructuredTool.from_function(func=lambda **kw: tool(**kw), name=tool.name,
                                        description=tool.schema["description"],
                                        args_schema=tool.schema["parameters"])


def _pydantic_model(schema: dict):
    """A pydantic model with the fields of a JSON Schema object (for LlamaIndex)."""
    from pydantic import Field, create_model

    params = schema["parameters"]
    fields = {}
    for name, prop in params["properties"].items():
        default = ... if name in params.get("required", []) else prop.get("default")
        fields[name] = (_PY[prop["type"]], Field(default, description=prop.get("description")))
    return create_model(schema["name"], **fields)


def to_llamaindex(tool: Tool):
    """A LlamaIndex FunctionTool that calls `tool` (validated) with the same arguments."""
    from llama_index.core.tools import FunctionTool

    return FunctionTool.from_defaults(fn=lambda **kw: tool(**kw), name=tool.name,
                                      description=tool.schema["description"],
                                      fn_schema=_pydantic_model(tool.schema))


def _to_langchain_messages(messages: list[dict]) -> list:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    out = []
    for m in messages:
        content = str(m.get("content") or "")
        if m["role"] == "system":
            out.append(SystemMessage(content))
        elif m["role"] == "user":
            out.append(HumanMessage(content))
        elif m["role"] == "tool":
            out.append(ToolMessage(content, tool_call_id=m.get("tool_call_id", "")))
        else:
            calls = [{"name": c["function"]["name"], "id": c["id"],
                      "args": _json(c["function"]["arguments"])} for c in m.get("tool_calls", [])]
            out.append(AIMessage(content, tool_calls=calls))
    return out


def _json(text: str) -> dict:
    import json

    return json.loads(text or "{}")


class LangChainChatModel:
    """A LangChain chat model behind hubkit's protocol (module docstring)."""

    def __init__(self, chat_model, name: str | None = None) -> None:
        self.chat_model = chat_model
        self.name = name or type(chat_model).__name__

    def chat(self, messages: list[dict], tools: list[dict] | None = None, **options) -> Reply:
        model = self.chat_model
        if tools:
            try:
                model = model.bind_tools([{"type": "function", "function": t} for t in tools])
            except NotImplementedError:  # e.g. fake models: tools stay in the prompt only
                pass
        msg = model.invoke(_to_langchain_messages(messages))
        calls = [ToolCall(c["name"], c.get("args") or {}, c.get("id") or f"call_{i}")
                 for i, c in enumerate(getattr(msg, "tool_calls", None) or [])]
        meta = getattr(msg, "usage_metadata", None) or {}
        usage = Usage(meta.get("input_tokens", 0), meta.get("output_tokens", 0),
                      estimated=not meta)
        return Reply(str(msg.content or ""), calls, usage, "tool_calls" if calls else "stop")

    def stream(self, messages, tools=None, **options) -> Iterator[str | Reply]:
        return stream_by_chat(self, messages, tools, **options)


def _sources(hits_text: str, question: str) -> str:
    return f"Sources:\n{hits_text}\n\nQuestion: {question}"


def rag_langchain(chat_model, search: Tool, question: str) -> str:
    """The RAG agent as an LCEL chain: search tool -> prompt -> LangChain chat model -> text."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda

    lc_search = to_langchain(search)
    prompt = ChatPromptTemplate.from_messages([("system", RAG_SYSTEM), ("human", "{body}")])
    chain = RunnableLambda(lambda q: {"body": _sources(lc_search.invoke({"query": q}), q)}) \
        | prompt | chat_model | StrOutputParser()
    return chain.invoke(question)


def _hubkit_llm_class():
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata

    class HubkitLLM(CustomLLM):
        """A hubkit chat model as a LlamaIndex LLM (completion = one user message)."""

        model: object = None

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(model_name=getattr(self.model, "name", "hubkit"))

        def complete(self, prompt: str, formatted: bool = False, **kwargs) -> CompletionResponse:
            return CompletionResponse(text=self.model.chat(
                [{"role": "user", "content": prompt}]).content)

        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs):
            yield self.complete(prompt)

    return HubkitLLM


def HubkitLLM(model):  # noqa: N802 - reads as the class it builds
    """A LlamaIndex LLM over a hubkit model (the class is built on first use)."""
    return _hubkit_llm_class()(model=model)


def rag_llamaindex(llm, search: Tool, question: str) -> str:
    """The RAG agent in LlamaIndex pieces: a FunctionTool for search, ChatMessages, `llm.chat`."""
    from llama_index.core.llms import ChatMessage

    li_search = to_llamaindex(search)
    hits_text = str(li_search.call(query=question))
    reply = llm.chat([ChatMessage(role="system", content=RAG_SYSTEM),
                      ChatMessage(role="user", content=_sources(hits_text, question))])
    return str(reply.message.content)
