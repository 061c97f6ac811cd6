"""The pipe between `p06` and a process of its own (the helper of `p06.pool`, the validation process of
`p06.publish.gx_worker`): length-prefixed pickles over stdin/stdout, and ending the process."""
from __future__ import annotations

import pickle
import struct
import subprocess


def send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def receive(stream):
    """The next object from the stream; EOFError when the other end closed it."""
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError
    (size,) = struct.unpack(">Q", head)
    return pickle.loads(stream.read(size))


def end(process: subprocess.Popen) -> None:
    """Close the process's input (it ends when it reads the end), wait for it, kill it if it does not."""
    if process.poll() is None:
        try:
            process.stdin.close()
            process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
