"""gunicorn's settings for the web process, read with `gunicorn -c deploy/gunicorn.conf.py
config.wsgi` (the README's command, deploy/compose.yaml and deploy/systemd/gridpoints-web.service).

Every value can be changed through the environment, so one file serves a container and a host.
https://docs.gunicorn.org/en/stable/settings.html
"""

import multiprocessing
import os

# Behind nginx (deploy/nginx.conf) bind to the loopback; in a container to every interface.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: each request holds one worker; the API's requests are short. 2 × cores + 1, at
# most 8 per host (more hosts scale further, sharing PostgreSQL and the broker).
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A printable list or an xlsx export of a large street may take a while; a stuck worker is
# killed and replaced after this many seconds.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The proxy in front sets X-Forwarded-Proto; trust it only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Logs to the journal / the container's output.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The workers' heartbeat files on a memory file system (a container's /tmp may be on disk).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
