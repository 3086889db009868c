"""gunicorn settings for a production trust.

    gunicorn -c deploy/gunicorn.conf.py 'cltd.web:create_app()'

The app is stateless: every worker (and every host behind a load balancer) shares the one
PostgreSQL named by CLTD_DATABASE_URL. Settings come from CLTD_* variables or the data
directory's config.toml (CLTD_DATA_DIR).
"""

import multiprocessing
import os

bind = os.environ.get("CLTD_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("CLTD_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never take the trust down.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("CLTD_LOG_LEVEL", "info").lower()
# Trust X-Forwarded-* only from the reverse proxy in front (TLS ends there).
forwarded_allow_ips = os.environ.get("CLTD_FORWARDED_ALLOW_IPS", "127.0.0.1")
