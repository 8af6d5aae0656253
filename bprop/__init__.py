"""bprop: backpropagation for fully connected feed-forward networks, exactly as the book says.

The four equations of backpropagation (Nielsen, *Neural Networks and Deep Learning*, ch.2) and
mini-batch stochastic gradient descent, in NumPy, over whole mini-batches in matrix form::

    >>> import bprop
    >>> net = bprop.Network([784, 30, 10], seed=0)
    >>> history = net.SGD(X, y, epochs=30, mini_batch_size=10, eta=3.0, test_data=(Xt, yt))

Modules: ``activations`` (σ, σ'), ``costs`` (C and BP1), ``backprop`` (feedforward, BP1–BP4 as
pure functions), ``network`` (the ``Network`` holding the parameters), ``train`` (SGD, schedules,
history, callbacks), ``gradcheck``, ``examples`` (the seeds' worked example and XOR);
``bprop.notebook`` draws them all in Jupyter (each object's ``_repr_html_`` hands it over).
"""

from bprop import examples
from bprop.activations import ACTIVATIONS, Activation
from bprop.costs import COSTS, Cost
from bprop.errors import ChanceWarning, DivergenceError, PairingWarning
from bprop.gradcheck import gradcheck, numerical_gradient
from bprop.network import Network
from bprop.train import Callback, EpochRecord, History, Schedule, TrainState

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "COSTS",
    "Activation",
    "Callback",
    "ChanceWarning",
    "Cost",
    "DivergenceError",
    "EpochRecord",
    "History",
    "Network",
    "PairingWarning",
    "Schedule",
    "TrainState",
    "examples",
    "gradcheck",
    "numerical_gradient",
]
