"""Imitation learning and inverse RL: learning from what an expert did.

Modules: `maxent_irl` (maximum-entropy inverse RL on a gridworld, with the
recovered reward drawn as a heatmap).
"""
