"""Helpers shared by every layer of the zoo: argument checks, atomic files, optimizers.

The bottom of the package (with `zoo.compat`): these modules import only keras,
numpy and the standard library, so any layer may use them.
"""
