"""moto servers for the tests, each forked from one process that has imported moto once.

Requests and answers are one line each on stdin and stdout:
  start HOST   binds a free port on HOST, forks a child that serves moto (S3, SQS, STS, with empty state) on it, and
               answers "PID PORT" once the socket listens, so a client can connect at once;
  stop PID     kills that child and answers "stopped" once it is reaped.
A moto_server started afresh spent about half a CPU-second importing moto, for every test that needs one. The
children die with this process, which ends when its stdin closes: when the test process that started it is gone.
"""

import ctypes
import os
import signal
import socket
import sys

import moto.s3.models  # noqa: F401  (imported once here rather than at each child's first request)
import moto.s3.urls  # noqa: F401
import moto.sqs.models  # noqa: F401
import moto.sqs.urls  # noqa: F401
import moto.sts.models  # noqa: F401
import moto.sts.urls  # noqa: F401
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

PR_SET_PDEATHSIG = 1
libc = ctypes.CDLL("libc.so.6", use_errno=True)
children = set()


def serve(listener, host, port):
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:
        os._exit(1)
    os.environ["MOTO_PORT"] = str(port)
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler, fd=listener.fileno()).serve_forever()


def start(host):
    listener = socket.create_server((host, 0), backlog=128)
    port = listener.getsockname()[1]
    pid = os.fork()
    if pid == 0:
        try:
            serve(listener, host, port)
        finally:
            os._exit(0)
    listener.close()
    children.add(pid)
    return f"{pid} {port}"


def stop(pid):
    if pid not in children:
        return "stopped"
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    children.discard(pid)
    return "stopped"


for line in sys.stdin:
    command, argument = line.split()
    answer = start(argument) if command == "start" else stop(int(argument))
    sys.stdout.write(answer + "\n")
    sys.stdout.flush()
