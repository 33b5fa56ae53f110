"""gunicorn settings for one CareReg web instance behind nginx (deploy/nginx/carereg.conf).

The address comes from the command line (`--bind 127.0.0.1:8001`, the systemd unit's instance
name); everything else is here, shared by every instance. docs/deployment.md#web.
"""

import os

# Processes x threads per instance: each thread holds a database connection while it serves.
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"

# As long as nginx waits (proxy_read_timeout); on stop, requests in hand finish first.
timeout = 120
graceful_timeout = 30
keepalive = 5

# Only nginx, on this host, may say the request came over HTTPS (the app checks it again).
forwarded_allow_ips = "127.0.0.1,::1"

# A worker is replaced after this many requests, so no slow leak lasts.
max_requests = 2000
max_requests_jitter = 200

# No access log here: nginx writes one without query strings, the app its own (JSON, with
# the request id). gunicorn's would carry full request lines.
accesslog = None
errorlog = "-"
