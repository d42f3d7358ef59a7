"""moto servers for the tests, each forked from one process that has imported moto once.

Each line "HOST PORT" read from stdin forks a child that serves moto (S3, SQS, STS, with empty state) on that
address, and writes the child's pid. A moto_server started afresh spent about half a CPU-second importing moto, for
every test that needs one. The children die with this process, which ends when its stdin closes: when the test
process that started it is gone.
"""

import ctypes
import os
import signal
import sys

import moto.server
import moto.s3.models  # noqa: F401  (imported once here rather than at each child's first request)
import moto.s3.urls  # noqa: F401
import moto.sqs.models  # noqa: F401
import moto.sqs.urls  # noqa: F401
import moto.sts.models  # noqa: F401
import moto.sts.urls  # noqa: F401

PR_SET_PDEATHSIG = 1
libc = ctypes.CDLL("libc.so.6", use_errno=True)
# The kernel reaps the children, so a stopped one's pid goes at once.
signal.signal(signal.SIGCHLD, signal.SIG_IGN)

for line in sys.stdin:
    host, port = line.split()
    pid = os.fork()
    if pid == 0:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:
            os._exit(1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        try:
            moto.server.main(["-H", host, "-p", port])
        finally:
            os._exit(0)
    sys.stdout.write(f"{pid}\n")
    sys.stdout.flush()
