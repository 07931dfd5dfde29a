"""zkML Workbench: train a model, generate Leo, prove inference with snarkVM."""

__version__ = "0.1.0"
