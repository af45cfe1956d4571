"""ril_trainer: the RIL student trainer (model, SFT, sampling, checkpoints, ONNX export).

Entry points: ``python3 -m ril_trainer <train|eval|export|info> ...`` (see __main__.py).
"""
__version__ = "0.1.0"
