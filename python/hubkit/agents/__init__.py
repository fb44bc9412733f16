"""Agents (outline Part 8): one model protocol, a ReAct core, tools, memory, RAG, evaluation.

Modules, in reading order:

    models      the chat protocol; ScriptedModel (tests), OpenAIChatModel (any server)
    local       a Hugging Face causal LM in process (TransformersChatModel)
    serve       `hubkit serve MODEL_DIR`: an OpenAI-compatible server over a local model
    tools       tool schemas from type hints and docstrings; argument validation
    toolbox     calculator, file reading inside a root, document search
    sandbox     a Python sandbox (time, memory, output limits; no network; scratch folder)
    react       the ReAct loop (step limit, token budget, trace, untrusted tool output)
    trace       JSONL run traces and their viewer (`hubkit agents trace`)
    memory      conversation buffer with summaries, vector memory, episodic memory
    plan        plan-and-execute with replanning on failure
    retrieval   chunking, a TF-IDF index, recall@k; rag: answers with citations, faithfulness
    multi       blackboard, manager/workers, critic
    evaluate    task suites and the harness (`hubkit agents eval`)
    capstone    a research assistant over PDFs; a code assistant
    frameworks  LangChain and LlamaIndex adapters

Importing hubkit.agents imports nothing (the `hubkit` CLI builds its parser
from hubkit.agents.cli); import the modules themselves. None of them imports
torch, transformers, openai or fastapi until a class that needs it is used.

Example:
    >>> from hubkit.agents.models import ScriptedModel, ToolCall
    >>> from hubkit.agents.react import Agent
    >>> from hubkit.agents.toolbox import calculator_tool
    >>> model = ScriptedModel([ToolCall("calculator", {"expression": "2**10"}), "1024"])
    >>> Agent(model, [calculator_tool()]).run("2**10?").answer
    '1024'
"""
