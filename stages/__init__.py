"""The pipeline package: one entry module per DVC stage (``python -m stages.<stage>``) and the libraries they use.

Entry modules are ``stages/<stage>.py``, each run by a stage of the dvc.yaml files; libraries live in the
subpackages (``core``, ``data``, ``models``, ``tasks``, ``methods``, ``xai``, ``metrics``, ``sweeps``). No library
module is named after an entry module: the entry module ``stages/attributions.py`` writes what the library
``stages/xai/attribution_vectors.py`` computes, ``stages/train.py`` runs the loop of ``stages/models/fitting.py``, so
a file's name says which of the two it is.
"""
