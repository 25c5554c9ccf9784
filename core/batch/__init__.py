"""Many takes from a manifest: the front door for render farms and scripted pipelines.

``manifest`` reads and checks a CSV of clips (image, audio, optional name, per-clip
settings by their command-line names) before any work starts; ``run`` renders one shard of
it, resumably: complete takes are skipped, takes left half-made by a killed worker are made
again, a claim in each take folder keeps two workers apart, the stages are opened once per
worker, and a summary (``batch.json``) is written atomically at the end.
"""
