"""Callbacks for the trainers researchers already use, and TensorBoard scalars.

Each submodule imports its framework, so ``import interplay`` imports none of them:

- :mod:`interplay.integrations.lightning`: ``InterplayCallback`` for PyTorch Lightning
  (``pip install 'interplay[lightning]'``);
- :mod:`interplay.integrations.transformers`: ``InterplayCallback`` for the Hugging Face
  ``Trainer`` (``pip install 'interplay[transformers]'``);
- :mod:`interplay.integrations.tensorboard`: ``TensorBoardWriter``, the scalars of
  ``interplay train --tensorboard`` (``pip install 'interplay[tensorboard]'``).
"""

__all__: list[str] = []
