"""MuJoCo tasks as vector envs: a Python reference and a C++ thread-pool version."""
