"""Known wrong: gradient_check reports the error but always says it passed."""

from hubkit.basics.reference import numerical_gradient, relative_error


def gradient_check(f, grad, x, eps=1e-6, tol=1e-6):
    return True, relative_error(grad(x), numerical_gradient(f, x, eps))
