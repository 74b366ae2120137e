"""provhub's public Python API for pipelines: :mod:`provhub.client` (post with retries and an
on-disk spool) and :mod:`provhub.capture` (record an activity while it runs).

Neither imports Flask or a store: a pipeline installs and imports them light.
"""
