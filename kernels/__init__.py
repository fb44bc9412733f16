"""hubkit's Triton kernels, one folder per op (installed as `hubkit.kernels`).

Importing a kernel module imports triton; nothing in `import hubkit` does.
Without a GPU, set TRITON_INTERPRET=1 before importing to run them on CPU.
"""
