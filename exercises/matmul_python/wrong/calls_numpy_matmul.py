"""Known wrong: hands the work to NumPy's own matmul (the @ operator)."""


def matmul(a, b):
    return a @ b
