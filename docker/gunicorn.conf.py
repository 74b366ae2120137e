"""gunicorn settings of the provhub image (``gunicorn -c docker/gunicorn.conf.py 'provhub.app:create_app()'``)."""


def post_worker_init(worker):
    """Each worker has made its app (no --preload: a Neo4j driver must not cross a fork)."""
    from provhub.app import settle

    settle()
