"""LangChain and LlamaIndex: tool adapters, a LangChain chat model in hubkit, one RAG agent."""

from __future__ import annotations

import pytest

from hubkit.agents.policy import RulePolicy
from hubkit.agents.rag import faithfulness
from hubkit.agents.react import Agent
from hubkit.agents.retrieval import Chunk, Hit, TfidfIndex
from hubkit.agents.toolbox import calculator_tool, search_tool

CHUNKS = [Chunk("ports.md#0", "The Atlas service listens on port 4821.", "ports.md"),
          Chunk("teams.md#0", "The storage team maintains Atlas.", "teams.md")]


def _search():
    index = TfidfIndex()
    index.add(CHUNKS)
    return search_tool(index, k=2)


def test_langchain_tool_keeps_schema_and_validation():
    pytest.importorskip("langchain_core")
    from hubkit.agents.frameworks import to_langchain

    lc = to_langchain(calculator_tool())
    assert lc.name == "calculator" and lc.invoke({"expression": "6*7"}) == "42"
    assert "expression" in lc.args
    with pytest.raises(Exception, match="expression"):
        lc.invoke({"expression": 42})


def test_llamaindex_tool_keeps_schema_and_validation():
    pytest.importorskip("llama_index.core")
    from hubkit.agents.frameworks import to_llamaindex

    li = to_llamaindex(calculator_tool())
    assert li.metadata.name == "calculator"
    assert "expression" in li.metadata.fn_schema.model_json_schema()["properties"]
    assert str(li.call(expression="2**5")) == "32"


def test_langchain_chat_model_runs_a_hubkit_agent():
    pytest.importorskip("langchain_core")
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage

    from hubkit.agents.frameworks import LangChainChatModel

    fake = FakeMessagesListChatModel(responses=[
        AIMessage("", tool_calls=[{"name": "calculator", "args": {"expression": "6*7"},
                                   "id": "c1"}]), AIMessage("It is 42.")])
    result = Agent(LangChainChatModel(fake), [calculator_tool()]).run("6*7?")
    assert result.answer == "It is 42." and result.tool_calls[0]["name"] == "calculator"


def test_the_same_rag_agent_in_langchain_and_llamaindex():
    pytest.importorskip("langchain_core")
    pytest.importorskip("llama_index.core")
    from langchain_core.messages import AIMessage
    from langchain_core.runnables import RunnableLambda

    from hubkit.agents.frameworks import HubkitLLM, rag_langchain, rag_llamaindex
    from hubkit.agents.policy import policy_model

    policy = RulePolicy()

    def lc_model(prompt_value):  # a LangChain runnable playing the model, with the same policy
        msgs = [{"role": {"human": "user"}.get(m.type, m.type), "content": m.content}
                for m in prompt_value.to_messages()]
        return AIMessage(policy(msgs, None))

    question = "Which port does the Atlas service listen on?"
    via_lc = rag_langchain(RunnableLambda(lc_model), _search(), question)
    via_li = rag_llamaindex(HubkitLLM(policy_model()), _search(), question)
    assert via_lc == via_li == "The Atlas service listens on port 4821 [ports.md#0]."
    assert faithfulness(via_lc, [Hit(c.id, c.text, c.source, 1) for c in CHUNKS])["score"] == 1
