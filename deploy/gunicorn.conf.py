"""gunicorn for Shidian behind nginx (deploy/systemd/shidian-web.service starts it).

2n+1 processes of 2 threads each (gunicorn's own rule of thumb for the processes). Threads
let a process overlap one request's waits on PostgreSQL with another's work, but a process's
threads share one core (the GIL): with 4 threads in n+1 processes, two heavy requests in one
process queued behind each other while the other core idled. bench/load.py's month-end rush,
5 minutes, same machine and load: dashboard p95 381 -> 325 ms, submit p95 833 -> 518 ms
(3 x 4 against 5 x 2). Each process holds its own copy of the app (~200 MB).
Tune with the SHIDIAN_WEB_* variables.
"""
import multiprocessing
import os

bind = os.environ.get("SHIDIAN_WEB_BIND", "unix:/run/shidian/gunicorn.sock")
# gunicorn's control socket (`gunicornc`) beside the app's socket, not in $HOME.
control_socket = os.environ.get("SHIDIAN_WEB_CONTROL", "/run/shidian/gunicorn.ctl")
workers = int(os.environ.get("SHIDIAN_WEB_WORKERS", 2 * multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("SHIDIAN_WEB_THREADS", 2))
# A plan file is parsed within its upload request (a few seconds for a long PDF).
timeout = int(os.environ.get("SHIDIAN_WEB_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never becomes an outage.
max_requests = 2000
max_requests_jitter = 200
# nginx on the same machine sets X-Forwarded-Proto; trust it from there only.
forwarded_allow_ips = os.environ.get("SHIDIAN_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
wsgi_app = "config.wsgi:application"
