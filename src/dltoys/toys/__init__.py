"""dltoys.toys: the runnable experiments, each wiring data, a model, training and plots.

``registry.TOY_MODULES`` lists them; ``dltoys list`` shows them.
"""
