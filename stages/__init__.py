"""The pipeline package: one entry module per DVC stage (``python -m stages.<stage>``) and the libraries they use.

Entry modules are ``stages/<stage>.py``, each run by a stage of the dvc.yaml files; libraries live in the
subpackages (``core``, ``data``, ``models``, ``tasks``, ``methods``, ``xai``, ``metrics``). The plugin and metric
packages (``tasks``, ``methods``, ``xai``, ``metrics``) name no module after an entry module: the entry module
``stages/attributions.py`` writes what the library ``stages/xai/attribution_vectors.py`` computes, so a file's name
says which of the two it is.
"""
