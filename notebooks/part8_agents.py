# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Part 8: AI agents
#
# A ReAct loop (think, call a tool, read the result, answer) from
# `hubkit.agents`, driven here by a scripted model so it runs offline with no
# language model. The same `Agent` runs a local or hosted model; see
# `python -m hubkit.agents.cli --help`.

# %%
import matplotlib.pyplot as plt

from hubkit.agents.models import ScriptedModel, ToolCall
from hubkit.agents.react import Agent
from hubkit.agents.toolbox import calculator_tool

# %% [markdown]
# ## One task, two steps
# The model first asks for the calculator, then answers with its result. Tool
# output enters the conversation fenced as untrusted data.

# %%
model = ScriptedModel([ToolCall("calculator", {"expression": "6*7"}), "It is 42."])
result = Agent(model, [calculator_tool()]).run("What is 6*7?")
print(result.answer, "| steps:", result.steps, "| stopped by:", result.stopped)

# %% [markdown]
# ## Steps per task
# A budget on steps is what keeps an agent from looping forever.

# %%
steps = []
for n_calls in range(4):
    script = [ToolCall("calculator", {"expression": f"{i}+1"}) for i in range(n_calls)] + ["done"]
    steps.append(Agent(ScriptedModel(script), [calculator_tool()]).run("count").steps)
plt.bar(range(4), steps); plt.xlabel("tool calls the model makes"); plt.ylabel("agent steps")
plt.show()
